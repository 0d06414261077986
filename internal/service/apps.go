package service

import (
	"context"
	"crypto/rand"
	"encoding/base64"

	"github.com/switchboard-chat/switchboard/internal/chat"
)

// DefaultAppID is the app created on first start. A fixed id makes the first
// start idempotent, also when several nodes start on one fresh database.
const DefaultAppID = "default"

// Bootstrap is what the operator configured for a first start.
type Bootstrap struct {
	AdminEmail    string
	AdminPassword string // generated when empty
	APIKey        string // optional key for the default app
}

// BootstrapResult says what EnsureDefaults created.
type BootstrapResult struct {
	App *chat.App
	// GeneratedPassword is set only on the start that created the owner
	// with a generated password; it must be shown to the operator once.
	GeneratedPassword string
	// CreatedApp is set only on the start that created the default app.
	CreatedApp    bool
	CreatedOwner  bool
	CreatedAPIKey bool
}

// EnsureDefaults creates the default app, its owner and the bootstrap API key
// when they do not exist yet. It is safe to call at every start.
func (s *Service) EnsureDefaults(ctx context.Context, b Bootstrap) (BootstrapResult, error) {
	var res BootstrapResult
	app, err := s.store.GetApp(ctx, DefaultAppID)
	if chat.IsCode(err, chat.CodeNotFound) {
		app = &chat.App{ID: DefaultAppID, Name: "Default"}
		err = s.store.CreateApp(ctx, app)
		res.CreatedApp = err == nil
		if chat.IsCode(err, chat.CodeConflict) {
			app, err = s.store.GetApp(ctx, DefaultAppID)
		}
	}
	if err != nil {
		return res, err
	}
	res.App = app

	agents, err := s.store.ListAgents(ctx, app.ID)
	if err != nil {
		return res, err
	}
	if len(agents) == 0 {
		pw := b.AdminPassword
		if pw == "" {
			pw = randomPassword()
			res.GeneratedPassword = pw
		}
		_, err := s.createAgent(ctx, app.ID, NewAgent{Email: b.AdminEmail, Name: "Owner", Password: pw, Role: chat.RoleOwner})
		switch {
		case err == nil:
			res.CreatedOwner = true
		case chat.IsCode(err, chat.CodeConflict):
			res.GeneratedPassword = "" // another node made the owner first
		default:
			return res, err
		}
	}

	if b.APIKey != "" {
		prefix, hash, err := apiKeyLookup(b.APIKey)
		if err != nil {
			return res, chat.Errorf(chat.CodeInvalid, "SWITCHBOARD_BOOTSTRAP_API_KEY is not a usable key")
		}
		_, err = s.store.APIKeyByPrefix(ctx, prefix)
		if chat.IsCode(err, chat.CodeNotFound) {
			err = s.store.CreateAPIKey(ctx, &chat.APIKey{AppID: app.ID, Name: "bootstrap", Prefix: prefix, Hash: hash})
			if err == nil {
				res.CreatedAPIKey = true
			} else if chat.IsCode(err, chat.CodeConflict) {
				err = nil
			}
		}
		if err != nil {
			return res, err
		}
	}
	return res, nil
}

// NewApp is the input of CreateApp: a workspace and its first owner.
type NewApp struct {
	Name  string   `json:"name"`
	Owner NewAgent `json:"owner"`
}

// CreateApp makes another workspace on this installation, with its own owner.
// Only owners may do it; the new app shares nothing with the actor's app.
func (s *Service) CreateApp(ctx context.Context, actor Actor, in NewApp) (*chat.App, *chat.Agent, error) {
	if err := actor.require(chat.RoleOwner); err != nil {
		return nil, nil, err
	}
	if err := chat.ValidateName("name", in.Name, true); err != nil {
		return nil, nil, err
	}
	// Everything the owner needs is checked before the app is made: the
	// store has no transaction spanning both, and a refused owner must not
	// leave an app without one behind.
	email, err := chat.NormalizeEmail("owner.email", in.Owner.Email)
	if err != nil {
		return nil, nil, err
	}
	if email == "" {
		return nil, nil, chat.FieldError("owner.email", "owner.email is required")
	}
	if err := chat.ValidateName("owner.name", in.Owner.Name, true); err != nil {
		return nil, nil, err
	}
	if err := chat.ValidatePassword(in.Owner.Password); err != nil {
		return nil, nil, err
	}
	if _, err := s.store.AgentByEmail(ctx, email); err == nil {
		return nil, nil, chat.Errorf(chat.CodeConflict, "an agent with this email already exists").WithDetail("field", "owner.email")
	} else if !chat.IsCode(err, chat.CodeNotFound) {
		return nil, nil, err
	}
	app := &chat.App{Name: in.Name}
	if err := s.store.CreateApp(ctx, app); err != nil {
		return nil, nil, err
	}
	in.Owner.Role = chat.RoleOwner
	owner, err := s.createAgent(ctx, app.ID, in.Owner)
	if err != nil {
		return nil, nil, err
	}
	return app, owner, nil
}

func randomPassword() string {
	b := make([]byte, 15)
	if _, err := rand.Read(b); err != nil {
		panic("service: crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
