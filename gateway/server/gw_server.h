/* gw_server.h: the event-driven HTTP/1.1 server: listeners, worker threads with one event loop each, connections,
 * limits, signals (SIGHUP reload, SIGTERM/SIGINT drain and exit) and the systemd protocol. */
#ifndef GW_SERVER_H
#define GW_SERVER_H

/* gw_server_run loads the configuration at `config_path`, serves until told to stop, and returns the process exit
 * status: 0 after a clean stop, 1 when the configuration or the listeners could not be set up. */
int gw_server_run(const char *config_path);

#endif
