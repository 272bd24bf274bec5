/* lib/client.c: the online client (libcurl, loaded with dlopen) is being written. */
