// Package email sends plain-text notification emails over SMTP: the
// fallback emails that tell a contact about an agent's unread reply and an
// offline agent about the conversations waiting for them.
package email

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// DefaultTimeout bounds one whole delivery (dial, greeting, TLS, auth,
// envelope, data) when Config.Timeout is 0.
const DefaultTimeout = 30 * time.Second

// MaxSubjectRunes bounds a subject: a few lines once RFC 2047 has encoded
// it, each within SMTP's 998-byte limit (see foldWords).
const MaxSubjectRunes = 200

// Config says how to reach the relay.
type Config struct {
	// Addr is the relay's host:port.
	Addr string
	// User turns on AUTH PLAIN. net/smtp refuses to send the password
	// unless the connection is TLS or the relay is on loopback.
	User     string
	Password string
	// From is the sender, "Name <address>" or a bare address.
	From string
	// Timeout bounds one delivery; 0 means DefaultTimeout.
	Timeout time.Duration
	// TLS is the STARTTLS client configuration; nil verifies the relay's
	// certificate against the system roots for the host of Addr.
	TLS *tls.Config
	// HelloName is what EHLO announces; "" means "localhost".
	HelloName string
}

// Message is one email. Names and the subject are free text: line breaks
// and other control characters in them are replaced by spaces, so they can
// never start a header of their own.
type Message struct {
	ToName  string
	To      string
	Subject string
	// Body is plain text; it is sent quoted-printable in UTF-8.
	Body string
}

// Sender delivers Messages to one relay. It is safe for concurrent use:
// each Send has its own connection.
type Sender struct {
	cfg  Config
	host string
	from *mail.Address
}

// New checks cfg and returns its Sender.
func New(cfg Config) (*Sender, error) {
	host, _, err := net.SplitHostPort(cfg.Addr)
	if err != nil || host == "" {
		return nil, fmt.Errorf("email: relay address %q must be host:port", cfg.Addr)
	}
	from, err := ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("email: from: %w", err)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.HelloName == "" {
		cfg.HelloName = "localhost"
	}
	return &Sender{cfg: cfg, host: host, from: from}, nil
}

// ErrBadAddress is returned for an address that cannot be sent to safely.
var ErrBadAddress = errors.New("email: invalid address")

// ParseAddress parses one RFC 5322 address, refusing any that carries a
// line break or other control character (a header-injection attempt).
func ParseAddress(s string) (*mail.Address, error) {
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return nil, fmt.Errorf("%w: control character in %q", ErrBadAddress, s)
	}
	a, err := mail.ParseAddress(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadAddress, err)
	}
	return a, nil
}

// Send delivers m, or returns why it was not. A returned error means the
// relay did not accept the message.
func (s *Sender) Send(ctx context.Context, m Message) error {
	to, err := ParseAddress(m.To)
	if err != nil {
		return err
	}
	to.Name = headerText(m.ToName, 0)
	data, err := s.compose(to, m, time.Now())
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	return s.deliver(ctx, to.Address, data)
}

func (s *Sender) deliver(ctx context.Context, rcpt string, data []byte) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("email: dial: %w", err)
	}
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	// Cancelling ctx cuts a conversation stuck in a read.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	c, err := smtp.NewClient(conn, s.host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("email: greeting: %w", err)
	}
	defer c.Close()
	if err := c.Hello(s.cfg.HelloName); err != nil {
		return fmt.Errorf("email: hello: %w", err)
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		tc := s.cfg.TLS
		if tc == nil {
			tc = &tls.Config{ServerName: s.host, MinVersion: tls.VersionTLS12}
		}
		if err := c.StartTLS(tc); err != nil {
			return fmt.Errorf("email: starttls: %w", err)
		}
	}
	if s.cfg.User != "" {
		if err := c.Auth(smtp.PlainAuth("", s.cfg.User, s.cfg.Password, s.host)); err != nil {
			return fmt.Errorf("email: auth: %w", err)
		}
	}
	if err := c.Mail(s.from.Address); err != nil {
		return fmt.Errorf("email: mail from: %w", err)
	}
	if err := c.Rcpt(rcpt); err != nil {
		return fmt.Errorf("email: rcpt to: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("email: data: %w", err)
	}
	if _, err := w.Write(data); err != nil {
		return fmt.Errorf("email: data: %w", err)
	}
	// The relay's answer to the end of data is the moment it takes the
	// message; Close returns it.
	if err := w.Close(); err != nil {
		return fmt.Errorf("email: data: %w", err)
	}
	_ = c.Quit()
	return nil
}

// compose renders the message: headers, then the quoted-printable body.
func (s *Sender) compose(to *mail.Address, m Message, now time.Time) ([]byte, error) {
	var b bytes.Buffer
	header := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	header("From", s.from.String())
	header("To", to.String())
	header("Subject", foldWords(mime.QEncoding.Encode("utf-8", headerText(m.Subject, MaxSubjectRunes))))
	header("Date", now.Format(time.RFC1123Z))
	header("Message-ID", s.messageID())
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	body := strings.ToValidUTF8(m.Body, "\uFFFD")
	if _, err := qp.Write([]byte(body)); err != nil {
		return nil, fmt.Errorf("email: body: %w", err)
	}
	if err := qp.Close(); err != nil {
		return nil, fmt.Errorf("email: body: %w", err)
	}
	// The DATA writer ends the last line itself when the body does not.
	return b.Bytes(), nil
}

// foldWords puts each RFC 2047 encoded word of a header value on a line of
// its own. The encoder separates them by a space only, and a subject of
// many-byte characters would otherwise make one line of thousands of bytes,
// past RFC 5322's 998, which relays refuse or break. Whitespace between
// encoded words is not part of the text, so the fold changes nothing a
// reader sees.
func foldWords(v string) string {
	return strings.ReplaceAll(v, "?= =?", "?=\r\n =?")
}

func (s *Sender) messageID() string {
	var r [16]byte
	_, _ = rand.Read(r[:])
	domain := "localhost"
	if i := strings.LastIndexByte(s.from.Address, '@'); i >= 0 {
		domain = s.from.Address[i+1:]
	}
	return "<" + hex.EncodeToString(r[:]) + "@" + domain + ">"
}

// headerText makes free text safe for one header line: control characters
// (CR and LF above all) become spaces, runs of spaces shrink to one, and
// the result is cut to max runes (0: no cut).
func headerText(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if max > 0 && utf8.RuneCountInString(s) > max {
		s = string([]rune(s)[:max-1]) + "…"
	}
	return s
}
