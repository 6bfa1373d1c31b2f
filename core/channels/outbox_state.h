/*
 * outbox_state.h - private to core/channels/: the dispatcher's state, the
 * deliveries in flight (outbox.c). At most OUTBOX_IN_FLIGHT at once, and
 * one per conversation, so message n+1 never overtakes message n.
 */
#ifndef OUTBOX_STATE_H
#define OUTBOX_STATE_H

#include <stdbool.h>
#include <stdint.h>

#define OUTBOX_IN_FLIGHT 64

struct outbox_call;

struct outbox_state {
    struct outbox_call *busy[OUTBOX_IN_FLIGHT];
    int nbusy;
    bool dispatching, again; /* a delivery that ended at once asks for another round */
};

#endif
