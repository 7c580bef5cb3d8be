package pgtest

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
)

// TestStartKillStart: the server answers, stops answering when killed, and
// answers again after a restart with the data it had.
func TestStartKillStart(t *testing.T) {
	s := Start(t)
	url := s.NewDatabase()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, "CREATE TABLE t (n int); INSERT INTO t VALUES (42)"); err != nil {
		t.Fatal(err)
	}
	c.Close(ctx)
	s.Kill()
	if c, err := pgx.Connect(ctx, url); err == nil {
		c.Close(ctx)
		t.Fatal("connected to a killed server")
	}
	s.Start()
	c, err = pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("after restart: %v\n%s", err, s.Log())
	}
	defer c.Close(ctx)
	var n int
	if err := c.QueryRow(ctx, "SELECT n FROM t").Scan(&n); err != nil || n != 42 {
		t.Fatalf("after restart: %d %v", n, err)
	}
}
