/* fuzz_memfd.h -- the fuzz input as a file: a memfd holding `data`, positioned at 0 (-1 on failure). */
#ifndef LS_FUZZ_MEMFD_H
#define LS_FUZZ_MEMFD_H

/* memfd_create: the including file defines _GNU_SOURCE before any include */
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

static inline int ls_fuzz_memfd(const uint8_t *data, size_t size, const char *name)
{
    int fd = memfd_create(name, 0);
    if (fd < 0)
        return -1;
    size_t off = 0;
    while (off < size) {
        ssize_t k = write(fd, data + off, size - off);
        if (k <= 0)
            break;
        off += (size_t)k;
    }
    lseek(fd, 0, SEEK_SET);
    return fd;
}

#endif
