package service

import (
	"context"
	"crypto/sha256"
	"encoding/hex"

	"github.com/switchboard-chat/switchboard/internal/auth"
	"github.com/switchboard-chat/switchboard/internal/chat"
)

// errBadLogin is the same for an unknown email and a wrong password, so the
// answer does not reveal which accounts exist.
var errBadLogin = chat.Errorf(chat.CodeUnauthenticated, "wrong email or password")

// Login checks an agent's credentials and opens a session. It returns the
// session token, which is shown to the client once (as a cookie) and stored
// only as a hash. It is LoginFrom for a client whose address is unknown.
func (s *Service) Login(ctx context.Context, email, password string) (string, *chat.Session, *chat.Agent, error) {
	return s.LoginFrom(ctx, "", email, password)
}

// checkPassword is Login without the brute-force limit.
func (s *Service) checkPassword(ctx context.Context, email, password string) (string, *chat.Session, *chat.Agent, error) {
	email, err := chat.NormalizeEmail("email", email)
	if err != nil || email == "" || len(password) > chat.MaxPasswordLen {
		return "", nil, nil, errBadLogin
	}
	a, err := s.store.AgentByEmail(ctx, email)
	if chat.IsCode(err, chat.CodeNotFound) {
		// Spend the same time as a real check, so timing does not tell
		// whether the email exists.
		_, _ = auth.VerifyPassword(s.dummyHash(), password)
		return "", nil, nil, errBadLogin
	}
	if err != nil {
		return "", nil, nil, err
	}
	ok, err := auth.VerifyPassword(a.PasswordHash, password)
	if err != nil || !ok {
		s.log.InfoContext(ctx, "sign-in refused", "agent", a.ID)
		return "", nil, nil, errBadLogin
	}
	token, sess, err := s.startSession(ctx, a)
	if err != nil {
		return "", nil, nil, err
	}
	return token, sess, a, nil
}

// startSession signs agent a in: sign-in and an accepted invitation.
func (s *Service) startSession(ctx context.Context, a *chat.Agent) (string, *chat.Session, error) {
	token, hash := auth.NewSessionToken()
	now := s.now()
	sess := &chat.Session{TokenHash: hash, AppID: a.AppID, AgentID: a.ID, CSRFToken: auth.NewCSRFToken(), CreatedAt: now, ExpiresAt: now.Add(s.sessionTTL)}
	if err := s.store.CreateSession(ctx, sess); err != nil {
		return "", nil, err
	}
	s.log.InfoContext(ctx, "signed in", "agent", a.ID, "app", a.AppID)
	return token, sess, nil
}

func (s *Service) dummyHash() string {
	s.dummyOnce.Do(func() {
		s.dummy, _ = auth.HashPassword(s.passwords, "not a real password")
	})
	return s.dummy
}

// Logout ends a session. Ending an unknown session is not an error.
func (s *Service) Logout(ctx context.Context, token string) error {
	hash, err := auth.HashToken(token)
	if err != nil {
		return nil
	}
	return s.store.DeleteSession(ctx, hash)
}

// AuthenticateSession turns a session token into an actor.
func (s *Service) AuthenticateSession(ctx context.Context, token string) (Actor, *chat.Session, error) {
	hash, err := auth.HashToken(token)
	if err != nil {
		return Actor{}, nil, errNoSession
	}
	sess, err := s.store.SessionByTokenHash(ctx, hash)
	if chat.IsCode(err, chat.CodeNotFound) {
		return Actor{}, nil, errNoSession
	}
	if err != nil {
		return Actor{}, nil, err
	}
	a, err := s.store.GetAgent(ctx, sess.AppID, sess.AgentID)
	if chat.IsCode(err, chat.CodeNotFound) {
		return Actor{}, nil, errNoSession
	}
	if err != nil {
		return Actor{}, nil, err
	}
	return Actor{AppID: a.AppID, AgentID: a.ID, Role: a.Role}, sess, nil
}

var (
	errNoSession = chat.Errorf(chat.CodeUnauthenticated, "not signed in, or the session has expired")
	errBadAPIKey = chat.Errorf(chat.CodeUnauthenticated, "invalid API key")
)

// apiKeyLookup derives the lookup prefix and hash of a presented key. Keys
// Switchboard made carry their prefix; an operator's own bootstrap key may
// have any form, so its prefix is derived from its hash instead.
func apiKeyLookup(key string) (string, []byte, error) {
	if prefix, hash, err := auth.ParseAPIKey(key); err == nil {
		return prefix, hash, nil
	}
	if len(key) < 24 || len(key) > 256 {
		return "", nil, errBadAPIKey
	}
	sum := sha256.Sum256([]byte(key))
	return "x" + hex.EncodeToString(sum[:6]), sum[:], nil
}

// AuthenticateAPIKey turns an API key into an actor of its app.
func (s *Service) AuthenticateAPIKey(ctx context.Context, key string) (Actor, error) {
	prefix, hash, err := apiKeyLookup(key)
	if err != nil {
		return Actor{}, errBadAPIKey
	}
	k, err := s.store.APIKeyByPrefix(ctx, prefix)
	if chat.IsCode(err, chat.CodeNotFound) {
		return Actor{}, errBadAPIKey
	}
	if err != nil {
		return Actor{}, err
	}
	if !auth.CheckAPIKey(k.Hash, hash) {
		return Actor{}, errBadAPIKey
	}
	return Actor{AppID: k.AppID, Role: chat.RoleAdmin, APIKeyID: k.ID}, nil
}

// CreateAPIKey makes a key for the actor's app and returns its secret, which
// is never shown again.
func (s *Service) CreateAPIKey(ctx context.Context, actor Actor, name string) (*chat.APIKey, string, error) {
	if err := actor.require(chat.RoleAdmin); err != nil {
		return nil, "", err
	}
	if err := chat.ValidateName("name", name, true); err != nil {
		return nil, "", err
	}
	secret, prefix, hash := auth.NewAPIKey()
	k := &chat.APIKey{AppID: actor.AppID, Name: name, Prefix: prefix, Hash: hash}
	if err := s.store.CreateAPIKey(ctx, k); err != nil {
		return nil, "", err
	}
	return k, secret, nil
}

// ListAPIKeys lists the app's keys, without secrets.
func (s *Service) ListAPIKeys(ctx context.Context, actor Actor) ([]chat.APIKey, error) {
	if err := actor.require(chat.RoleAdmin); err != nil {
		return nil, err
	}
	return s.store.ListAPIKeys(ctx, actor.AppID)
}

// DeleteAPIKey revokes a key.
func (s *Service) DeleteAPIKey(ctx context.Context, actor Actor, id string) error {
	if err := actor.require(chat.RoleAdmin); err != nil {
		return err
	}
	if err := chat.ValidateID("id", id); err != nil {
		return chat.NotFound("API key")
	}
	return s.store.DeleteAPIKey(ctx, actor.AppID, id)
}
