package config

import (
	"log/slog"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"time"
)

// Email is the SMTP relay of the fallback emails. Addr empty (the
// default) turns them off.
type Email struct {
	Addr     string // SWITCHBOARD_SMTP_ADDR, host:port
	User     string // SWITCHBOARD_SMTP_USER; empty sends without AUTH
	Password string // SWITCHBOARD_SMTP_PASSWORD
	From     string // SWITCHBOARD_SMTP_FROM, required with Addr
	// UnreadAfter: an agent's reply unread this long is emailed to the contact.
	UnreadAfter time.Duration // SWITCHBOARD_EMAIL_UNREAD_AFTER
	// AgentOfflineAfter: an agent offline this long is emailed a digest.
	AgentOfflineAfter time.Duration // SWITCHBOARD_EMAIL_AGENT_OFFLINE_AFTER
}

// Defaults of the email delays.
const (
	DefaultEmailUnreadAfter       = 10 * time.Minute
	DefaultEmailAgentOfflineAfter = 15 * time.Minute
)

// Enabled reports whether fallback emails are sent.
func (e Email) Enabled() bool { return e.Addr != "" }

// String hides the password, so printing a Config cannot leak it.
func (e Email) String() string {
	pw := ""
	if e.Password != "" {
		pw = "[set]"
	}
	return "{Addr:" + e.Addr + " User:" + e.User + " Password:" + pw + " From:" + e.From +
		" UnreadAfter:" + e.UnreadAfter.String() + " AgentOfflineAfter:" + e.AgentOfflineAfter.String() + "}"
}

// LogValue hides the password from structured logs too.
func (e Email) LogValue() slog.Value {
	return slog.GroupValue(slog.String("addr", e.Addr), slog.String("user", e.User), slog.Bool("password", e.Password != ""),
		slog.String("from", e.From), slog.Duration("unreadAfter", e.UnreadAfter), slog.Duration("agentOfflineAfter", e.AgentOfflineAfter))
}

func loadEmail(getenv func(string) string) (Email, error) {
	e := Email{
		Addr:     strings.TrimSpace(getenv("SWITCHBOARD_SMTP_ADDR")),
		User:     getenv("SWITCHBOARD_SMTP_USER"),
		Password: getenv("SWITCHBOARD_SMTP_PASSWORD"),
		From:     strings.TrimSpace(getenv("SWITCHBOARD_SMTP_FROM")),
	}
	var err error
	if e.UnreadAfter, err = parsePositiveDuration("SWITCHBOARD_EMAIL_UNREAD_AFTER", getenv("SWITCHBOARD_EMAIL_UNREAD_AFTER"), DefaultEmailUnreadAfter); err != nil {
		return Email{}, err
	}
	if e.AgentOfflineAfter, err = parsePositiveDuration("SWITCHBOARD_EMAIL_AGENT_OFFLINE_AFTER", getenv("SWITCHBOARD_EMAIL_AGENT_OFFLINE_AFTER"), DefaultEmailAgentOfflineAfter); err != nil {
		return Email{}, err
	}
	if e.Addr == "" {
		return e, nil
	}
	host, port, err := net.SplitHostPort(e.Addr)
	if p, perr := strconv.Atoi(port); err != nil || host == "" || perr != nil || p < 1 || p > 65535 {
		return Email{}, &Error{"SWITCHBOARD_SMTP_ADDR", "must be empty (no emails) or host:port, for example smtp.example.com:587"}
	}
	if e.From == "" {
		return Email{}, &Error{"SWITCHBOARD_SMTP_FROM", "must be set when SWITCHBOARD_SMTP_ADDR is"}
	}
	if strings.ContainsAny(e.From, "\r\n") {
		return Email{}, &Error{"SWITCHBOARD_SMTP_FROM", "must be one line"}
	}
	if _, err := mail.ParseAddress(e.From); err != nil {
		return Email{}, &Error{"SWITCHBOARD_SMTP_FROM", "must be an address such as \"Support <support@example.com>\""}
	}
	if strings.ContainsAny(e.User, "\r\n") {
		return Email{}, &Error{"SWITCHBOARD_SMTP_USER", "must be one line"}
	}
	if e.User == "" && e.Password != "" {
		return Email{}, &Error{"SWITCHBOARD_SMTP_PASSWORD", "needs SWITCHBOARD_SMTP_USER"}
	}
	return e, nil
}
