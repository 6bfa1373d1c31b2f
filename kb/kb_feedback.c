/* kb_feedback.c - placeholder; being written. */
