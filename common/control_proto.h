/* SPDX-License-Identifier: MIT */
/*
 * The control protocol between tunctl and tund (docs/control-protocol.md):
 * one JSON object per line each way over a Unix stream socket.
 *   request: {"version":1,"command":"show","args":{...}}
 *   reply:   {"version":1,"ok":true,"result":{...}}
 *        or  {"version":1,"ok":false,"error":{"code":"not_found","message":"..."}}
 */
#ifndef TUND_CONTROL_PROTO_H
#define TUND_CONTROL_PROTO_H

#define CONTROL_PROTOCOL_VERSION 1
#define CONTROL_DEFAULT_SOCKET   "/run/tund/control.sock"
#define CONTROL_DEFAULT_GROUP    "tund"
/* A request line longer than this is refused and the connection closed. */
#define CONTROL_MAX_REQUEST (64 * 1024)

#endif
