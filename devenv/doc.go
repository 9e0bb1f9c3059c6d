// Package devenv starts throwaway services for `walrelay demo` and for tests:
// a PostgreSQL cluster built from the local PostgreSQL binaries (initdb and
// pg_ctl into a temporary directory, wal_level=logical, trust authentication
// on 127.0.0.1) and an in-process Kafka-protocol broker (franz-go's kfake).
//
// Nothing here is meant for production. The PostgreSQL cluster listens only on
// 127.0.0.1 and trusts every local connection; the Kafka broker keeps its data
// in memory (or in a temporary directory, so it can be stopped and started).
//
// PostgreSQL refuses to run as root. When the calling process is root,
// StartPostgres runs initdb and pg_ctl as an unprivileged system user
// (DefaultPGUser, created with useradd when missing) through runuser.
package devenv
