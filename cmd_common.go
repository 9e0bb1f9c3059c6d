package main

import (
	"context"
	"os"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/walrelay/walrelay/config"
	"github.com/walrelay/walrelay/replication"
)

// withConfigDB loads the config file (WALRELAY_* variables override it),
// connects to postgres.dsn and runs f, all within 30 s; the connection is
// closed afterwards. Used by the short commands (status, snapshot).
func withConfigDB(ctx context.Context, file string, f func(context.Context, *config.Config, *pgx.Conn) error) error {
	cfg, err := config.Load(file, os.Environ())
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	db, err := replication.ConnectSQL(ctx, cfg.Postgres.DSN)
	if err != nil {
		return err
	}
	defer db.Close(context.Background())
	return f(ctx, cfg, db)
}
