/*
 * channel_info.h - what the agent API asks the plugin host about a channel:
 * its reply window and its settings as agents may see them.
 *
 * STAND-IN until the channel registry of issue 16 (lua_host.c, struct
 * channel) is on main: there the host keeps each channel's window_s and
 * the public view of its settings (lua_settings_apply) and answers these
 * from them; this file and channel_info_stub.c go away then.
 */
#ifndef CHANNEL_INFO_H
#define CHANNEL_INFO_H

#include <jansson.h>

struct sb_host;

/* The channel's window_s (free-form replies only within that many seconds
 * of the customer's last message); 0 when it declares none. */
int sb_host_channel_window_s(struct sb_host *h, const char *channel);

/* The channel's settings with secrets shown as "set": a new reference,
 * NULL when the channel is unknown or not configured. */
json_t *sb_host_channel_settings(struct sb_host *h, const char *channel);

#endif
