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
func (s *Service) LoginFrom(ctx context.Context, addr, email, password string) (string, *chat.Session, *chat.Agent, error) {
	type limit struct {
		subject string
		max     int
	}
	limits := []limit{{emailSubject(email), LoginMaxFailuresPerEmail}}
	if addr != "" {
		limits = append(limits, limit{"addr:" + addr, LoginMaxFailuresPerAddress})
	}
	now := s.now()
	since := now.Add(-LoginWindow)
	var until time.Time
	for _, l := range limits {
		at, err := s.store.NthLoginFailure(ctx, l.subject, l.max, since)
		if err != nil {
			return "", nil, nil, err
		}
		if u := at.Add(LoginWindow); !at.IsZero() && u.After(until) {
			until = u
		}
	}
	if !until.IsZero() {
		wait := int64((until.Sub(now) + time.Second - 1) / time.Second)
		return "", nil, nil, chat.Errorf(chat.CodeRateLimited, "too many failed sign-ins: try again later").
			WithDetail("retryAfterSeconds", max(wait, 1))
	}

	token, sess, a, err := s.checkPassword(ctx, email, password)
	switch {
	case errors.Is(err, errBadLogin):
		subjects := make([]string, len(limits))
		for i, l := range limits {
			subjects[i] = l.subject
		}
		if rerr := s.store.RecordLoginFailure(ctx, subjects, now, since); rerr != nil {
			return "", nil, nil, rerr
		}
	case err == nil:
		if cerr := s.store.ClearLoginFailures(ctx, limits[0].subject); cerr != nil {
			s.log.WarnContext(ctx, "clearing sign-in failures", "agent", a.ID, "err", cerr)
		}
	}
	return token, sess, a, err
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
