/* mpi_smoke.c -- MPI starts, every rank reports, a reduction adds up.
 * argv[1] is the expected number of ranks. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    int expected = argc > 1 ? atoi(argv[1]) : size;
    long mine = rank + 1, sum = 0;
    MPI_Allreduce(&mine, &sum, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
    int ok = size == expected && sum == (long)size * (size + 1) / 2;
    if (rank == 0)
        printf("mpi_smoke: %d ranks, sum %ld: %s\n", size, sum, ok ? "ok" : "FAILED");
    MPI_Finalize();
    return ok ? 0 : 1;
}
