package service

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/switchboard-chat/switchboard/internal/chat"
)

// The sign-in brute-force limit. Failures are counted in the store, so the
// limit holds however many nodes share the database. Per email it is
// tight, which stops password guessing against one account; per client
// address it is looser, since an office shares one address, and stops one
// client from trying a few passwords against many accounts.
const (
	LoginWindow                = 15 * time.Minute
	LoginMaxFailuresPerEmail   = 5
	LoginMaxFailuresPerAddress = 50
)

// LoginFrom is Login for a client at addr ("" when unknown), under the
// brute-force limit: once an email or an address has had its quota of
// failures within LoginWindow, every attempt, even with the right password,
// is refused with rate_limited (details.retryAfterSeconds says for how long)
// until the oldest of those failures leaves the window. A successful
// sign-in clears the email's failures. The limit is checked before the
// email is looked up, so refusals look the same for every email, known or
// not.
//
// An attempt is counted against its email before its password is checked,
// and the count is read again after: counted only once it had failed, a
// burst of concurrent guesses would all pass the check before the first of
// them was recorded. A guess that finds the quota taken by such a burst is
// refused without its password being checked, and stays counted. The
// address's quota is looser and counts failures only, so that the sign-ins
// of an office behind one address never use it up.
func (s *Service) LoginFrom(ctx context.Context, addr, email, password string) (string, *chat.Session, *chat.Agent, error) {
	limits := []loginLimit{{emailSubject(email), LoginMaxFailuresPerEmail}}
	if addr != "" {
		limits = append(limits, loginLimit{"addr:" + addr, LoginMaxFailuresPerAddress})
	}
	byEmail := limits[0]
	now := s.now()
	since := now.Add(-LoginWindow)
	if err := s.loginAllowed(ctx, limits, 0, now); err != nil {
		return "", nil, nil, err
	}
	if err := s.store.RecordLoginFailure(ctx, []string{byEmail.subject}, now, since); err != nil {
		return "", nil, nil, err
	}
	// This attempt is among the counted ones now: one more than the quota
	// means another attempt took the last place first.
	if err := s.loginAllowed(ctx, limits[:1], 1, now); err != nil {
		return "", nil, nil, err
	}

	token, sess, a, err := s.checkPassword(ctx, email, password)
	switch {
	case errors.Is(err, errBadLogin) && len(limits) > 1:
		if rerr := s.store.RecordLoginFailure(ctx, []string{limits[1].subject}, now, since); rerr != nil {
			return "", nil, nil, rerr
		}
	case err == nil:
		if cerr := s.store.ClearLoginFailures(ctx, byEmail.subject); cerr != nil {
			s.log.WarnContext(ctx, "clearing sign-in failures", "agent", a.ID, "err", cerr)
		}
	}
	return token, sess, a, err
}

// loginLimit is a quota of failed sign-ins within LoginWindow.
type loginLimit struct {
	subject string
	max     int
}

// loginAllowed refuses with rate_limited when a subject has had more than
// its quota plus extra failures within the window before now.
func (s *Service) loginAllowed(ctx context.Context, limits []loginLimit, extra int, now time.Time) error {
	var until time.Time
	for _, l := range limits {
		at, err := s.store.NthLoginFailure(ctx, l.subject, l.max+extra, now.Add(-LoginWindow))
		if err != nil {
			return err
		}
		if u := at.Add(LoginWindow); !at.IsZero() && u.After(until) {
			until = u
		}
	}
	if until.IsZero() {
		return nil
	}
	wait := int64((until.Sub(now) + time.Second - 1) / time.Second)
	return chat.Errorf(chat.CodeRateLimited, "too many failed sign-ins: try again later").
		WithDetail("retryAfterSeconds", max(wait, 1))
}

// emailSubject names an email's failures without storing the email: the
// table then holds nothing an attacker typed in clear.
func emailSubject(email string) string {
	norm, err := chat.NormalizeEmail("email", email)
	if err != nil || norm == "" {
		norm = strings.ToLower(strings.TrimSpace(email))
	}
	sum := sha256.Sum256([]byte(norm))
	return "email:" + hex.EncodeToString(sum[:])
}
