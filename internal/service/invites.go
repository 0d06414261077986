package service

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"time"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/store"
)

// InviteTTL is how long an invitation link works.
const InviteTTL = 7 * 24 * time.Hour

// inviteTokenLen is the length of an invitation token: 32 random bytes in
// unpadded base64url.
const inviteTokenLen = 43

// errInviteGone is the one answer to a link that is unknown, used, revoked
// or expired: the invitee can do the same thing about each (ask again), and
// telling them apart would help someone guessing links.
var errInviteGone = chat.Errorf(chat.CodeNotFound, "this invitation link is not valid: it was already used, revoked or has expired. Ask your admin for a new one")

// NewInvite is the input of CreateInvite. Email may be empty: the invitee
// then chooses it when accepting.
type NewInvite struct {
	Email string    `json:"email"`
	Role  chat.Role `json:"role"`
}

// AcceptInput is what the invitee fills in.
type AcceptInput struct {
	Name     string `json:"name"`
	Email    string `json:"email"`
	Password string `json:"password"`
}

// CreateInvite makes a single-use link for someone to join the actor's app.
// The token is returned once and only its hash is stored; no email is sent,
// the admin passes the link on.
func (s *Service) CreateInvite(ctx context.Context, actor Actor, in NewInvite) (*store.Invite, string, error) {
	if err := actor.require(chat.RoleAdmin); err != nil {
		return nil, "", err
	}
	if in.Role == "" {
		in.Role = chat.RoleAgent
	}
	switch in.Role {
	case chat.RoleAgent, chat.RoleAdmin:
	case chat.RoleOwner:
		// An owner is made deliberately, by an owner, not through a link
		// that may be forwarded.
		return nil, "", chat.FieldError("role", "invitations are for agents and admins; an owner can make an agent an owner afterwards")
	default:
		return nil, "", chat.FieldError("role", "role must be agent or admin")
	}
	email, err := chat.NormalizeEmail("email", in.Email)
	if err != nil {
		return nil, "", err
	}
	if email != "" {
		if _, err := s.store.AgentByEmail(ctx, email); err == nil {
			return nil, "", chat.Errorf(chat.CodeConflict, "%s already has an account", email).WithDetail("field", "email")
		} else if !chat.IsCode(err, chat.CodeNotFound) {
			return nil, "", err
		}
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, "", err
	}
	token := base64.RawURLEncoding.EncodeToString(raw[:])
	by := actor.AgentID
	if by == "" {
		by = "apikey:" + actor.APIKeyID
	}
	inv := &store.Invite{AppID: actor.AppID, Email: email, Role: in.Role, TokenHash: inviteHash(token),
		CreatedBy: by, ExpiresAt: s.now().Add(InviteTTL)}
	if err := s.store.CreateInvite(ctx, inv); err != nil {
		return nil, "", err
	}
	s.log.InfoContext(ctx, "invitation created", "app", actor.AppID, "invite", inv.ID, "role", string(inv.Role))
	return inv, token, nil
}

// ListInvites returns the app's open invitations.
func (s *Service) ListInvites(ctx context.Context, actor Actor) ([]store.Invite, error) {
	if err := actor.require(chat.RoleAdmin); err != nil {
		return nil, err
	}
	return s.store.ListInvites(ctx, actor.AppID)
}

// RevokeInvite makes an open invitation's link stop working.
func (s *Service) RevokeInvite(ctx context.Context, actor Actor, id string) error {
	if err := actor.require(chat.RoleAdmin); err != nil {
		return err
	}
	if err := chat.ValidateID("id", id); err != nil {
		return chat.NotFound("invitation")
	}
	return s.store.DeleteInvite(ctx, actor.AppID, id)
}

// InviteByToken shows the invitee what they were invited as, before they
// choose a password.
func (s *Service) InviteByToken(ctx context.Context, token string) (*store.Invite, error) {
	if len(token) != inviteTokenLen {
		return nil, errInviteGone
	}
	inv, err := s.store.InviteByTokenHash(ctx, inviteHash(token))
	if chat.IsCode(err, chat.CodeNotFound) {
		return nil, errInviteGone
	}
	return inv, err
}

// AcceptInvite creates the invitee's account and signs them in. When the
// admin named an email, that is the account's email.
func (s *Service) AcceptInvite(ctx context.Context, token string, in AcceptInput) (string, *chat.Session, *chat.Agent, error) {
	inv, err := s.InviteByToken(ctx, token)
	if err != nil {
		return "", nil, nil, err
	}
	if inv.Email != "" {
		email, err := chat.NormalizeEmail("email", in.Email)
		if err != nil {
			return "", nil, nil, err
		}
		if email != "" && email != inv.Email {
			return "", nil, nil, chat.FieldError("email", "this invitation is for %s", inv.Email)
		}
		in.Email = inv.Email
	}
	a, err := s.newAgent(inv.AppID, NewAgent{Email: in.Email, Name: in.Name, Password: in.Password, Role: inv.Role})
	if err != nil {
		return "", nil, nil, err
	}
	if err := s.store.AcceptInvite(ctx, inv.TokenHash, a); err != nil {
		if chat.IsCode(err, chat.CodeNotFound) {
			return "", nil, nil, errInviteGone
		}
		return "", nil, nil, err
	}
	s.log.InfoContext(ctx, "invitation accepted", "app", a.AppID, "invite", inv.ID, "agent", a.ID)
	tok, sess, err := s.startSession(ctx, a)
	if err != nil {
		return "", nil, nil, err
	}
	return tok, sess, a, nil
}

func inviteHash(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}
