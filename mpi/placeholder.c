/* placeholder until the module's first source lands */
typedef int ls_mpi_placeholder_;
