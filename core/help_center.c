/* help_center.c - placeholder; being written. */
