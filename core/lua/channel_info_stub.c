/*
 * channel_info_stub.c - the stand-in of channel_info.h until the channel
 * registry lands: WhatsApp's window (the only channel that declares one,
 * plugins/channels/whatsapp.lua) and no settings.
 */
#include <string.h>

#include "channel_info.h"

int sb_host_channel_window_s(struct sb_host *h, const char *channel)
{
    (void)h;
    return channel && strcmp(channel, "whatsapp") == 0 ? 86400 : 0;
}

json_t *sb_host_channel_settings(struct sb_host *h, const char *channel)
{
    (void)h;
    (void)channel;
    return NULL;
}
