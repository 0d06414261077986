package config

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// Email is off unless a relay is named, with the documented delays.
func TestEmailOffByDefault(t *testing.T) {
	c, err := Load(nil, envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("default email config: %v", c.Email)
	if c.Email.Enabled() || c.Email.UnreadAfter != 10*time.Minute || c.Email.AgentOfflineAfter != 15*time.Minute {
		t.Fatalf("email defaults %+v", c.Email)
	}
}

func TestEmailSettings(t *testing.T) {
	const pw = "smtp-secret-password-x"
	c, err := Load(nil, envOf(map[string]string{
		"SWITCHBOARD_SMTP_ADDR":                 "smtp.example.com:587",
		"SWITCHBOARD_SMTP_USER":                 "mailer",
		"SWITCHBOARD_SMTP_PASSWORD":             pw,
		"SWITCHBOARD_SMTP_FROM":                 "Support <support@example.com>",
		"SWITCHBOARD_EMAIL_UNREAD_AFTER":        "5m",
		"SWITCHBOARD_EMAIL_AGENT_OFFLINE_AFTER": "1h",
	}))
	if err != nil {
		t.Fatal(err)
	}
	e := c.Email
	if !e.Enabled() || e.User != "mailer" || e.Password != pw || e.UnreadAfter != 5*time.Minute || e.AgentOfflineAfter != time.Hour {
		t.Fatalf("email config %+v", e)
	}
	// Neither printing the config nor logging it shows the password.
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("config", "email", e)
	printed := fmt.Sprintf("%v %+v %s", c, c, e)
	t.Logf("logged: %s", strings.TrimSpace(logged.String()))
	if strings.Contains(printed, pw) || strings.Contains(logged.String(), pw) {
		t.Fatal("the SMTP password was printed or logged")
	}
}

func TestEmailSettingsRefused(t *testing.T) {
	for _, tc := range []struct {
		env     map[string]string
		setting string
	}{
		{map[string]string{"SWITCHBOARD_SMTP_ADDR": "smtp.example.com"}, "SWITCHBOARD_SMTP_ADDR"},
		{map[string]string{"SWITCHBOARD_SMTP_ADDR": ":25", "SWITCHBOARD_SMTP_FROM": "a@b.c"}, "SWITCHBOARD_SMTP_ADDR"},
		{map[string]string{"SWITCHBOARD_SMTP_ADDR": "h:99999", "SWITCHBOARD_SMTP_FROM": "a@b.c"}, "SWITCHBOARD_SMTP_ADDR"},
		{map[string]string{"SWITCHBOARD_SMTP_ADDR": "h:25"}, "SWITCHBOARD_SMTP_FROM"},
		{map[string]string{"SWITCHBOARD_SMTP_ADDR": "h:25", "SWITCHBOARD_SMTP_FROM": "not an address"}, "SWITCHBOARD_SMTP_FROM"},
		{map[string]string{"SWITCHBOARD_SMTP_ADDR": "h:25", "SWITCHBOARD_SMTP_FROM": "a@b.c\r\nBcc: x@y.z"}, "SWITCHBOARD_SMTP_FROM"},
		{map[string]string{"SWITCHBOARD_SMTP_ADDR": "h:25", "SWITCHBOARD_SMTP_FROM": "a@b.c", "SWITCHBOARD_SMTP_PASSWORD": "orphan-password"}, "SWITCHBOARD_SMTP_PASSWORD"},
		{map[string]string{"SWITCHBOARD_EMAIL_UNREAD_AFTER": "soon"}, "SWITCHBOARD_EMAIL_UNREAD_AFTER"},
		{map[string]string{"SWITCHBOARD_EMAIL_AGENT_OFFLINE_AFTER": "-1m"}, "SWITCHBOARD_EMAIL_AGENT_OFFLINE_AFTER"},
	} {
		_, err := Load(nil, envOf(tc.env))
		t.Logf("%v: %v", tc.env, err)
		if err == nil || !strings.Contains(err.Error(), tc.setting) {
			t.Errorf("%v: err %v, want one naming %s", tc.env, err, tc.setting)
		}
		if err != nil && strings.Contains(err.Error(), "orphan-password") {
			t.Errorf("error shows the password: %v", err)
		}
	}
}
