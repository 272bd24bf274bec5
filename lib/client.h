/* lib/client.h: see lib/client.c */
