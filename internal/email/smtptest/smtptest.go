// Package smtptest runs a small, real SMTP server on loopback for tests: it
// speaks EHLO/HELO, STARTTLS (when asked to), AUTH PLAIN, MAIL, RCPT,
// DATA, RSET, NOOP and QUIT, records every message it accepts, and can be
// told to refuse the next few commands of a kind with a temporary error.
package smtptest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"io"
	"math/big"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"
)

// Message is one message the server accepted.
type Message struct {
	From string
	To   []string
	Data []byte
	// User is who authenticated ("" without AUTH); TLS says the message
	// came over STARTTLS.
	User string
	TLS  bool
}

// Header parses the message's header.
func (m Message) Header() mail.Header {
	msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		return mail.Header{}
	}
	return msg.Header
}

// Subject is the decoded Subject header.
func (m Message) Subject() string {
	s := m.Header().Get("Subject")
	if d, err := new(mime.WordDecoder).DecodeHeader(s); err == nil {
		return d
	}
	return s
}

// Text is the decoded body (quoted-printable when so declared).
func (m Message) Text() string {
	msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		return ""
	}
	var r io.Reader = msg.Body
	if strings.EqualFold(msg.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		r = quotedprintable.NewReader(r)
	}
	b, _ := io.ReadAll(r)
	return strings.ReplaceAll(string(b), "\r\n", "\n")
}

// Server is a running test SMTP server.
type Server struct {
	// Addr is host:port on 127.0.0.1.
	Addr string
	// TLS is a client configuration that trusts the server's certificate
	// (nil unless started WithTLS).
	TLS *tls.Config

	ln      net.Listener
	srvTLS  *tls.Config
	users   map[string]string
	mu      sync.Mutex
	msgs    []Message
	fail    map[string]int
	arrived chan struct{}
	wg      sync.WaitGroup
}

// Option changes how Start sets the server up.
type Option func(*Server)

// WithTLS offers STARTTLS with a fresh self-signed certificate for 127.0.0.1.
func WithTLS() Option { return func(s *Server) { s.srvTLS = &tls.Config{} } }

// WithUser requires AUTH PLAIN as user with password before MAIL.
func WithUser(user, password string) Option {
	return func(s *Server) { s.users[user] = password }
}

// Start listens on 127.0.0.1:0 and serves until the test ends.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{users: map[string]string{}, fail: map[string]int{}, arrived: make(chan struct{}, 1)}
	for _, o := range opts {
		o(s)
	}
	if s.srvTLS != nil {
		if err := s.makeCert(); err != nil {
			t.Fatalf("smtptest: certificate: %v", err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("smtptest: listen: %v", err)
	}
	s.ln, s.Addr = ln, ln.Addr().String()
	s.wg.Add(1)
	go s.serve()
	t.Cleanup(s.Close)
	return s
}

// Close stops the server and waits for its connections to end.
func (s *Server) Close() {
	_ = s.ln.Close()
	s.wg.Wait()
}

// FailNext makes the next n commands of verb ("MAIL", "RCPT", "DATA" for
// the end of data) answer 451, a temporary failure.
func (s *Server) FailNext(verb string, n int) {
	s.mu.Lock()
	s.fail[strings.ToUpper(verb)] = n
	s.mu.Unlock()
}

// Messages returns a copy of what the server accepted, in order.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// WaitFor waits until at least n messages arrived or timeout passed, and
// returns what arrived.
func (s *Server) WaitFor(n int, timeout time.Duration) []Message {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		if m := s.Messages(); len(m) >= n {
			return m
		}
		select {
		case <-s.arrived:
		case <-deadline.C:
			return s.Messages()
		}
	}
}

func (s *Server) failing(verb string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail[verb] > 0 {
		s.fail[verb]--
		return true
	}
	return false
}

func (s *Server) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer c.Close()
			// A client that hangs cannot hold Close up for long.
			_ = c.SetDeadline(time.Now().Add(30 * time.Second))
			s.session(c)
		}()
	}
}

// session is one client's conversation, RFC 5321 in its simplest form.
func (s *Server) session(c net.Conn) {
	tp := textproto.NewConn(c)
	reply := func(code int, msg string) { _ = tp.PrintfLine("%d %s", code, msg) }
	reply(220, "smtptest ready")
	var (
		from, user string
		to         []string
		inMail     bool
		isTLS      bool
	)
	reset := func() { from, to, inMail = "", nil, false }
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		verb = strings.ToUpper(verb)
		switch verb {
		case "EHLO":
			reset()
			lines := []string{"smtptest"}
			if s.srvTLS != nil && !isTLS {
				lines = append(lines, "STARTTLS")
			}
			if len(s.users) > 0 {
				lines = append(lines, "AUTH PLAIN")
			}
			for i, l := range lines {
				sep := "-"
				if i == len(lines)-1 {
					sep = " "
				}
				_ = tp.PrintfLine("250%s%s", sep, l)
			}
		case "HELO":
			reset()
			reply(250, "smtptest")
		case "STARTTLS":
			if s.srvTLS == nil || isTLS {
				reply(502, "5.5.1 not offered")
				continue
			}
			reply(220, "2.0.0 go ahead")
			tc := tls.Server(c, s.srvTLS)
			if err := tc.Handshake(); err != nil {
				return
			}
			c, isTLS = tc, true
			tp = textproto.NewConn(tc)
			reset()
			user = ""
		case "AUTH":
			mech, resp, _ := strings.Cut(arg, " ")
			if !strings.EqualFold(mech, "PLAIN") || len(s.users) == 0 {
				reply(504, "5.5.4 unsupported")
				continue
			}
			if resp == "" {
				reply(334, "")
				if resp, err = tp.ReadLine(); err != nil {
					return
				}
			}
			raw, err := base64.StdEncoding.DecodeString(resp)
			parts := strings.Split(string(raw), "\x00")
			if err != nil || len(parts) != 3 || s.users[parts[1]] != parts[2] || parts[1] == "" {
				reply(535, "5.7.8 authentication failed")
				continue
			}
			user = parts[1]
			reply(235, "2.7.0 authenticated")
		case "MAIL":
			switch {
			case len(s.users) > 0 && user == "":
				reply(530, "5.7.0 authentication required")
			case inMail:
				reply(503, "5.5.1 nested MAIL")
			case s.failing("MAIL"):
				reply(451, "4.3.0 try again later")
			default:
				from, inMail = pathArg(arg, "FROM:"), true
				reply(250, "2.1.0 ok")
			}
		case "RCPT":
			switch {
			case !inMail:
				reply(503, "5.5.1 MAIL first")
			case s.failing("RCPT"):
				reply(451, "4.3.0 try again later")
			default:
				to = append(to, pathArg(arg, "TO:"))
				reply(250, "2.1.5 ok")
			}
		case "DATA":
			if len(to) == 0 {
				reply(503, "5.5.1 RCPT first")
				continue
			}
			reply(354, "end with <CRLF>.<CRLF>")
			data, err := tp.ReadDotBytes()
			if err != nil {
				return
			}
			if s.failing("DATA") {
				reply(451, "4.3.0 try again later")
				reset()
				continue
			}
			s.mu.Lock()
			s.msgs = append(s.msgs, Message{From: from, To: to, Data: data, User: user, TLS: isTLS})
			s.mu.Unlock()
			select {
			case s.arrived <- struct{}{}:
			default:
			}
			reset()
			reply(250, "2.0.0 queued")
		case "RSET":
			reset()
			reply(250, "2.0.0 ok")
		case "NOOP":
			reply(250, "2.0.0 ok")
		case "QUIT":
			reply(221, "2.0.0 bye")
			return
		default:
			reply(500, "5.5.2 unrecognised command")
		}
	}
}

// pathArg takes the address out of "FROM:<a@b> SIZE=1".
func pathArg(arg, prefix string) string {
	if len(arg) >= len(prefix) && strings.EqualFold(arg[:len(prefix)], prefix) {
		arg = arg[len(prefix):]
	}
	arg, _, _ = strings.Cut(strings.TrimSpace(arg), " ")
	return strings.Trim(arg, "<>")
}

func (s *Server) makeCert() error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "smtptest"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	s.srvTLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}
	s.TLS = &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
	return nil
}
