package email_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/internal/email"
	"github.com/switchboard-chat/switchboard/internal/email/smtptest"
)

func newSender(t *testing.T, srv *smtptest.Server, adjust func(*email.Config)) *email.Sender {
	t.Helper()
	cfg := email.Config{Addr: srv.Addr, From: "Switchboard <support@example.test>", TLS: srv.TLS, Timeout: 10 * time.Second}
	if adjust != nil {
		adjust(&cfg)
	}
	s, err := email.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// A message arrives with its headers and body intact: STARTTLS when the
// relay offers it, AUTH PLAIN when a user is set, a non-ASCII subject
// encoded, and the body's lines (dots and all) as written.
func TestSendHeadersAndBody(t *testing.T) {
	srv := smtptest.Start(t, smtptest.WithTLS(), smtptest.WithUser("mailer", "s3cret"))
	s := newSender(t, srv, func(c *email.Config) { c.User, c.Password = "mailer", "s3cret" })
	body := "Hello Zoë,\n.\nA line with a lone dot above, and a long one: " + strings.Repeat("x", 120) + "\n"
	if err := s.Send(context.Background(), email.Message{ToName: "Zoë Contact", To: "zoe@example.test", Subject: "Réponse de l'équipe", Body: body}); err != nil {
		t.Fatal(err)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("got %d messages, want 1", len(msgs))
	}
	m := msgs[0]
	h := m.Header()
	t.Logf("TLS=%v user=%q from=%q to=%v subject header %q", m.TLS, m.User, m.From, m.To, h.Get("Subject"))
	if !m.TLS || m.User != "mailer" {
		t.Errorf("TLS=%v user=%q, want STARTTLS and AUTH as mailer", m.TLS, m.User)
	}
	if m.From != "support@example.test" || len(m.To) != 1 || m.To[0] != "zoe@example.test" {
		t.Errorf("envelope %q -> %v", m.From, m.To)
	}
	if !strings.HasPrefix(h.Get("Subject"), "=?utf-8?q?") {
		t.Errorf("subject %q is not RFC 2047 encoded", h.Get("Subject"))
	}
	if got := m.Subject(); got != "Réponse de l'équipe" {
		t.Errorf("decoded subject %q", got)
	}
	for _, k := range []string{"From", "To", "Date", "Message-Id", "Mime-Version", "Content-Type"} {
		if h.Get(k) == "" {
			t.Errorf("header %s missing", k)
		}
	}
	if !strings.HasSuffix(h.Get("Message-Id"), "@example.test>") {
		t.Errorf("Message-ID %q", h.Get("Message-Id"))
	}
	if _, err := h.Date(); err != nil {
		t.Errorf("Date: %v", err)
	}
	if got := m.Text(); got != body {
		t.Errorf("body\n%q\nwant\n%q", got, body)
	}
}

// Line breaks in a name or subject cannot add a header; in an address
// they make the send fail before anything is sent.
func TestHeaderInjection(t *testing.T) {
	srv := smtptest.Start(t)
	s := newSender(t, srv, nil)
	err := s.Send(context.Background(), email.Message{
		ToName:  "Eve\r\nBcc: victim@example.test",
		To:      "eve@example.test",
		Subject: "Hi\r\nBcc: victim@example.test\nX-Evil: 1",
		Body:    "body",
	})
	if err != nil {
		t.Fatal(err)
	}
	m := srv.WaitFor(1, 5*time.Second)[0]
	h := m.Header()
	t.Logf("To %q Subject %q", h.Get("To"), m.Subject())
	if h.Get("Bcc") != "" || h.Get("X-Evil") != "" {
		t.Errorf("injected header present: %q", m.Data)
	}
	if len(m.To) != 1 {
		t.Errorf("recipients %v", m.To)
	}
	for _, to := range []string{"a@example.test\r\nRCPT TO:<b@example.test>", "a@example.test\nBcc: b@example.test", "not an address", ""} {
		err := s.Send(context.Background(), email.Message{To: to, Subject: "x", Body: "y"})
		t.Logf("address %q: %v", to, err)
		if !errors.Is(err, email.ErrBadAddress) {
			t.Errorf("address %q: err %v, want ErrBadAddress", to, err)
		}
	}
	if n := len(srv.Messages()); n != 1 {
		t.Errorf("%d messages, want only the first", n)
	}
	if _, err := email.New(email.Config{Addr: srv.Addr, From: "x@example.test\r\nBcc: y@example.test"}); err == nil {
		t.Error("a From with a line break was accepted")
	}
}

// A relay's temporary refusal is an error, and the next try goes through.
func TestRelayRefuses(t *testing.T) {
	srv := smtptest.Start(t)
	s := newSender(t, srv, nil)
	for _, verb := range []string{"RCPT", "DATA", "MAIL"} {
		srv.FailNext(verb, 1)
		err := s.Send(context.Background(), email.Message{To: "a@example.test", Subject: verb, Body: "b"})
		t.Logf("%s refused: %v", verb, err)
		if err == nil {
			t.Errorf("%s refusal not reported", verb)
		}
	}
	if err := s.Send(context.Background(), email.Message{To: "a@example.test", Subject: "ok", Body: "b"}); err != nil {
		t.Fatal(err)
	}
	if msgs := srv.Messages(); len(msgs) != 1 || msgs[0].Subject() != "ok" {
		t.Errorf("accepted %d messages, want only the last", len(msgs))
	}
	// A wrong password is refused by the relay.
	authSrv := smtptest.Start(t, smtptest.WithUser("u", "right"))
	bad := newSender(t, authSrv, func(c *email.Config) { c.User, c.Password = "u", "wrong" })
	if err := bad.Send(context.Background(), email.Message{To: "a@example.test", Subject: "s", Body: "b"}); err == nil {
		t.Error("wrong password accepted")
	}
}

// A relay that accepts the connection and then never answers costs at
// most the timeout; one that is not there fails at once.
func TestSendTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var held []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c) // never greeted
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range held {
			c.Close()
		}
		mu.Unlock()
	})
	s, err := email.New(email.Config{Addr: ln.Addr().String(), From: "a@example.test", Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = s.Send(context.Background(), email.Message{To: "b@example.test", Subject: "s", Body: "b"})
	took := time.Since(start)
	t.Logf("silent relay: %v after %v", err, took)
	if err == nil || took > 5*time.Second {
		t.Fatalf("silent relay: err %v after %v, want a timeout near 300ms", err, took)
	}
	// Cancelling the caller's context ends the wait too.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	time.AfterFunc(200*time.Millisecond, cancel)
	slow, _ := email.New(email.Config{Addr: ln.Addr().String(), From: "a@example.test", Timeout: time.Minute})
	start = time.Now()
	err = slow.Send(ctx, email.Message{To: "b@example.test", Subject: "s", Body: "b"})
	t.Logf("cancelled: %v after %v", err, time.Since(start))
	if err == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("cancelled send: err %v after %v", err, time.Since(start))
	}

	srv := smtptest.Start(t)
	addr := srv.Addr
	srv.Close() // nothing listens
	gone, _ := email.New(email.Config{Addr: addr, From: "a@example.test"})
	if err := gone.Send(context.Background(), email.Message{To: "b@example.test", Subject: "s", Body: "b"}); err == nil {
		t.Fatal("send to a closed port succeeded")
	}
}

// A subject at its longest, in characters that take four bytes each, still
// keeps every line of the message within RFC 5322's 998 bytes (relays
// refuse or break longer ones), and reads back whole.
func TestLongSubjectStaysWithinLineLimit(t *testing.T) {
	srv := smtptest.Start(t)
	s := newSender(t, srv, nil)
	subject := strings.Repeat("😀", email.MaxSubjectRunes+5)
	if err := s.Send(context.Background(), email.Message{ToName: strings.Repeat("é", 100), To: "zoe@example.test", Subject: subject, Body: "body"}); err != nil {
		t.Fatal(err)
	}
	m := srv.WaitFor(1, 5*time.Second)[0]
	for i, line := range strings.Split(string(m.Data), "\n") {
		if line = strings.TrimSuffix(line, "\r"); len(line) > 998 {
			t.Errorf("line %d is %d bytes: %.80q…", i+1, len(line), line)
		}
	}
	want := strings.Repeat("😀", email.MaxSubjectRunes-1) + "…"
	if got := m.Subject(); got != want {
		t.Errorf("subject read back as %q, want %q", got, want)
	}
}
