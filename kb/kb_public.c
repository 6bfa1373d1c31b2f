/* kb_public.c - placeholder; being written. */
