package email_test

import (
	"context"
	"errors"
	"strings"
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

// A relay that never answers costs at most the timeout.
func TestSendTimeout(t *testing.T) {
	srv := smtptest.Start(t)
	s := newSender(t, srv, func(c *email.Config) { c.Timeout = 300 * time.Millisecond })
	srv.Close() // nothing listens: the dial fails at once
	start := time.Now()
	err := s.Send(context.Background(), email.Message{To: "a@example.test", Subject: "s", Body: "b"})
	t.Logf("closed relay: %v after %v", err, time.Since(start))
	if err == nil {
		t.Error("send to a closed relay succeeded")
	}
}
