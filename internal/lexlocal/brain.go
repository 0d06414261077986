package lexlocal

import (
	"context"
	"time"
)

// Brain is what the wire layer needs from the bots behind it: their
// metadata for the model API and a turn for the runtime API. The export
// loader and dialog manager implement it; the server owns sessions, auth,
// validation and the wire format, so a Brain never sees HTTP.
type Brain interface {
	// Bot reports a loaded bot by id.
	Bot(botID string) (BotInfo, bool)
	// Bots lists every loaded bot for ListBots, sorted by name then id.
	Bots() []BotInfo
	// Recognize runs one turn. in.SessionState is the session as the server
	// holds it (or as the client sent it); the Brain must not retain it.
	// Returning an *Error sends that AWS error to the client.
	Recognize(ctx context.Context, in RecognizeInput) (RecognizeOutput, error)
}

// BotInfo describes a bot for DescribeBot and alias lookups.
type BotInfo struct {
	ID          string
	Name        string
	Description string
	// IdleSessionTTL bounds how long an untouched session lives; zero means
	// Lex's default of five minutes.
	IdleSessionTTL time.Duration
	Created        time.Time
	Updated        time.Time
	Aliases        []AliasInfo
}

// Alias returns the bot's alias with the given id.
func (b BotInfo) Alias(aliasID string) (AliasInfo, bool) {
	for _, a := range b.Aliases {
		if a.ID == aliasID {
			return a, true
		}
	}
	return AliasInfo{}, false
}

// AliasInfo describes an alias for DescribeBotAlias and ListBotAliases.
type AliasInfo struct {
	ID          string
	Name        string
	Description string
	BotVersion  string // "DRAFT" for the test alias
	// Locales is keyed by Lex locale id (en_US); only enabled ones answer.
	Locales map[string]AliasLocale
}

// AliasLocale is one botAliasLocaleSettings entry.
type AliasLocale struct {
	Enabled bool
	// LambdaARN, when set, is reported as the locale's code hook.
	LambdaARN string
}

// RecognizeInput is one RecognizeText turn, ids already validated.
type RecognizeInput struct {
	BotID, AliasID, LocaleID, SessionID string
	Text                                string
	SessionState                        SessionState
	RequestAttributes                   map[string]string
}

// RecognizeOutput is the Brain's answer; the server fills sessionId,
// originatingRequestId and echoes request attributes.
type RecognizeOutput struct {
	SessionState    SessionState
	Messages        []Message
	Interpretations []Interpretation
}
