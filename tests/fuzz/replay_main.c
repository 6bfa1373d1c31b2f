/*
 * replay_main.c - the main of the replay programs (replay_<target>) that
 * ctest runs: every file under the folders given is passed once to the
 * target's LLVMFuzzerTestOneInput, so the seed corpus and every crash
 * reproducer kept in tests/fuzz/corpus/ run in the normal and sanitizer
 * builds without libFuzzer. Each input sits in a buffer of exactly its
 * size, so ASan sees a read past the end as libFuzzer would.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The whole file into a malloc'd buffer of its size; NULL on failure. */
static uint8_t *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    struct stat st;

    if (!f) return NULL;
    if (fstat(fileno(f), &st) == 0) {
        *len = (size_t)st.st_size;
        buf = malloc(*len ? *len : 1);
        if (buf && fread(buf, 1, *len, f) != *len) {
            free(buf);
            buf = NULL;
        }
    }
    fclose(f);
    return buf;
}

/* Runs one file, or every file of a folder; the count of inputs run, -1
 * when something could not be read. */
static int replay(const char *path)
{
    struct stat st;
    struct dirent **names;
    int n, total = 0;

    if (stat(path, &st) != 0) {
        fprintf(stderr, "replay: %s: cannot stat\n", path);
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        size_t len = 0;
        uint8_t *buf = read_all(path, &len);
        if (!buf) {
            fprintf(stderr, "replay: %s: cannot read\n", path);
            return -1;
        }
        LLVMFuzzerTestOneInput(buf, len);
        free(buf);
        return 1;
    }
    n = scandir(path, &names, NULL, alphasort);
    if (n < 0) {
        fprintf(stderr, "replay: %s: cannot list\n", path);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        char sub[4096];
        if (names[i]->d_name[0] != '.' && total >= 0) {
            int r;
            snprintf(sub, sizeof(sub), "%s/%s", path, names[i]->d_name);
            r = replay(sub);
            total = r < 0 ? -1 : total + r;
        }
        free(names[i]);
    }
    free(names);
    return total;
}

int main(int argc, char **argv)
{
    int total = 0;

    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE_OR_FOLDER...\n", argv[0]);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        int r = replay(argv[i]);
        if (r < 0) return 1;
        total += r;
    }
    if (total == 0) {
        fprintf(stderr, "replay: no inputs found\n");
        return 1;
    }
    printf("replay: %d inputs ran\n", total);
    return 0;
}
