package smtptest_test

import (
	"net/textproto"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/internal/email/smtptest"
)

// The server speaks the protocol a plain client expects: HELO, RSET
// forgetting the envelope, RCPT before MAIL refused, an injected failure,
// DATA with dot-stuffing, QUIT.
func TestServerDialogue(t *testing.T) {
	srv := smtptest.Start(t)
	srv.FailNext("RCPT", 1)
	c, err := textproto.Dial("tcp", srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	step := func(cmd string, want int) {
		t.Helper()
		if cmd != "" {
			if err := c.PrintfLine("%s", cmd); err != nil {
				t.Fatal(err)
			}
		}
		code, msg, err := c.ReadResponse(want)
		t.Logf("%-28q -> %d %s", cmd, code, msg)
		if err != nil {
			t.Fatalf("%q: %v", cmd, err)
		}
	}
	step("", 220)
	step("HELO client.test", 250)
	step("MAIL FROM:<a@example.test>", 250)
	step("RSET", 250)
	step("RCPT TO:<b@example.test>", 503)
	step("MAIL FROM:<a@example.test> SIZE=10", 250)
	step("RCPT TO:<b@example.test>", 451)
	step("RCPT TO:<b@example.test>", 250)
	step("DATA", 354)
	w := c.DotWriter()
	if _, err := w.Write([]byte("Subject: hi\r\n\r\n.leading dot\r\n")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	step("", 250)
	step("NOOP", 250)
	step("BOGUS", 500)
	step("QUIT", 221)
	msgs := srv.WaitFor(1, 5*time.Second)
	if len(msgs) != 1 || msgs[0].From != "a@example.test" || len(msgs[0].To) != 1 || msgs[0].To[0] != "b@example.test" {
		t.Fatalf("recorded %+v", msgs)
	}
	if got := msgs[0].Text(); got != ".leading dot\n" || msgs[0].Subject() != "hi" {
		t.Fatalf("body %q subject %q", got, msgs[0].Subject())
	}
}
