package testsvc_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go"

	"github.com/switchboard-chat/switchboard/internal/testsvc"
)

// A private PostgreSQL crashes and comes back on the same address with
// what it had committed.
func TestPrivatePostgresRestart(t *testing.T) {
	pg := testsvc.StartPostgres(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	exec := func(sql string) {
		t.Helper()
		conn, err := pgx.Connect(ctx, pg.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	exec("CREATE TABLE kept (n int); INSERT INTO kept VALUES (42)")
	pg.Stop(syscall.SIGQUIT)
	if _, err := pgx.Connect(ctx, pg.URL); err == nil {
		t.Fatal("connected to a stopped server")
	}
	pg.Start()
	conn, err := pgx.Connect(ctx, pg.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, "SELECT n FROM kept").Scan(&n); err != nil || n != 42 {
		t.Fatalf("after the restart: %d, %v", n, err)
	}
}

// A private NATS server stops and comes back on the same address.
func TestPrivateNATSRestart(t *testing.T) {
	srv := testsvc.StartNATS(t)
	nc, err := nats.Connect(srv.URL, nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	srv.Stop(syscall.SIGKILL)
	deadline := time.Now().Add(10 * time.Second)
	for nc.IsConnected() {
		if time.Now().After(deadline) {
			t.Fatal("the client did not notice the server was gone")
		}
		time.Sleep(20 * time.Millisecond)
	}
	srv.Start()
	for !nc.IsConnected() {
		if time.Now().After(deadline) {
			t.Fatal("the client did not reconnect")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
