// Package dialog is the dialog manager of the local Lex runtime: it runs
// imported bots (package export) turn by turn with Lex V2's semantics and
// implements lexlocal.Brain, so the wire layer serves them to the real SDK.
//
// A Brain keeps no conversation state of its own. Everything a turn needs —
// the intent in progress, its slots, the pending dialog action, how often a
// question went unanswered — travels in the lexlocal.SessionState the
// server stores, so one Brain serves any number of sessions concurrently.
//
// Bots and aliases. A V2 export keeps Bot.json's identifier as its bot id.
// A V1 export has none; it gets V1ID(name): ten upper-case letters and
// digits derived from a SHA-256 of the bot's name, so the id survives
// restarts and re-imports. Every bot answers on the test alias TSTALIASID
// ("TestBotAlias", version DRAFT) with all its locales enabled.
//
// A turn, as Lex V2 runs it:
//   - With no intent in progress the text is matched against the locale's
//     sample utterances. The chosen intent's Initial response is sent, slots
//     found in the text are filled, and missing required slots are elicited
//     in priority order (ElicitSlot). A reply to an elicitation is read as
//     that slot's value; one that cannot be read is asked again up to the
//     prompt's MaxRetries, unless it clearly names another intent, which
//     then takes over. Past the retries the intent fails.
//   - With every required slot filled, an intent with a confirmation prompt
//     asks it (ConfirmIntent). Yes and no, in English and Spanish, confirm
//     or deny; a denial sends the declination response and fails the
//     intent; an unclear answer is asked again within MaxRetries.
//   - Fulfilment closes the intent as Fulfilled with its closing response.
//     Code hooks are not run (there is no Lambda locally); an intent that
//     declares them behaves as if Lambda had returned Delegate.
//   - Text below the confidence threshold answers FallbackIntent with its
//     closing (else initial) response, dialog action Close and intent state
//     ReadyForFulfillment. When the previous turn of the session also ended
//     in FallbackIntent, the intent state is Failed instead: two misses in a
//     row close the conversation as Failed, which is how a V2 bot gives up
//     and hands the user to a person.
//   - A failed intent (retries exhausted) closes with state Failed and the
//     FallbackIntent's response.
//
// V1 bots keep V1 semantics: text no intent matches gets the clarification
// prompt (ElicitIntent), up to its MaxAttempts in a row; the next miss sends
// the abort statement and closes FallbackIntent as Failed. A V1 intent that
// fails sends the abort statement too.
//
// A client may set the state itself (PutSession, or a sessionState on
// RecognizeText): ElicitSlot and ConfirmIntent on a known intent are
// honoured on the next turn; any other dialog action starts afresh.
//
// Messages: each message group yields one message per turn, picked at
// random from the group's message and its variations. In text, card fields
// and custom payloads, {SlotName} becomes the slot's interpreted value and
// [attribute] the session attribute's value; a name that is unknown or
// unset is left as written, as Lex leaves it.
package dialog

import (
	"cmp"
	"context"
	"crypto/sha256"
	"fmt"
	"maps"
	"math/rand/v2"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/switchboard-chat/switchboard/internal/lexlocal"
	"github.com/switchboard-chat/switchboard/internal/lexlocal/export"
	"github.com/switchboard-chat/switchboard/internal/lexlocal/nlu"
)

// The test alias every bot answers on, as Lex names the draft alias.
const (
	TestAliasID   = "TSTALIASID"
	TestAliasName = "TestBotAlias"
	draftVersion  = "DRAFT"
)

// Options tunes New.
type Options struct {
	// Now is the clock for relative dates ("tomorrow") and the bots'
	// creation times; nil means time.Now.
	Now func() time.Time
	// Seed makes the choice among message variations reproducible; zero
	// seeds from the clock.
	Seed uint64
}

// Brain runs imported bots; it implements lexlocal.Brain.
type Brain struct {
	bots map[string]*bot
	list []lexlocal.BotInfo

	mu  sync.Mutex // guards rng
	rng *rand.Rand
}

type bot struct {
	info    lexlocal.BotInfo
	v1      bool
	locales map[string]*locale
}

type locale struct {
	src   *export.Locale
	model *nlu.Model
	// fallback is the locale's FallbackIntent, nil when the export has none.
	fallback *export.Intent
}

var _ lexlocal.Brain = (*Brain)(nil)

var botIDPattern = regexp.MustCompile(`^[0-9a-zA-Z]{10}$`)

// New compiles bots for the runtime. It fails, naming the bot, on a bot
// without locales, an id the Lex API could not address, two bots with one
// id, or a locale whose utterances or slot types do not compile.
func New(bots []*export.Bot, opts Options) (*Brain, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	seed := opts.Seed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	b := &Brain{bots: map[string]*bot{}, rng: rand.New(rand.NewPCG(seed, seed>>1|1))}
	created := opts.Now().UTC()
	for i, eb := range bots {
		if eb == nil {
			return nil, fmt.Errorf("dialog: bot %d is nil", i)
		}
		id := eb.ID
		if id == "" {
			id = V1ID(eb.Name)
		}
		if !botIDPattern.MatchString(id) {
			return nil, fmt.Errorf("dialog: bot %q: id %q is not 10 letters or digits", eb.Name, id)
		}
		if other, dup := b.bots[id]; dup {
			return nil, fmt.Errorf("dialog: bots %q and %q have the same id %s", other.info.Name, eb.Name, id)
		}
		if len(eb.Locales) == 0 {
			return nil, fmt.Errorf("dialog: bot %q has no locales", eb.Name)
		}
		bt := &bot{v1: eb.V1, locales: map[string]*locale{}}
		enabled := map[string]lexlocal.AliasLocale{}
		for lid, el := range eb.Locales {
			m, err := CompileLocale(el, opts.Now)
			if err != nil {
				return nil, fmt.Errorf("dialog: bot %q locale %s: %w", eb.Name, lid, err)
			}
			bt.locales[lid] = &locale{src: el, model: m, fallback: el.Intent(nlu.FallbackIntent)}
			enabled[lid] = lexlocal.AliasLocale{Enabled: true}
		}
		bt.info = lexlocal.BotInfo{
			ID: id, Name: eb.Name, Description: eb.Description, IdleSessionTTL: eb.IdleSessionTTL,
			Created: created, Updated: created,
			Aliases: []lexlocal.AliasInfo{{ID: TestAliasID, Name: TestAliasName, BotVersion: draftVersion, Locales: enabled}},
		}
		b.bots[id] = bt
		b.list = append(b.list, bt.info)
	}
	slices.SortFunc(b.list, func(x, y lexlocal.BotInfo) int {
		return cmp.Or(cmp.Compare(x.Name, y.Name), cmp.Compare(x.ID, y.ID))
	})
	return b, nil
}

// V1ID is the bot id a V1 export (which has none) is served under: ten
// characters from A-Z0-9 derived from the bot's name.
func V1ID(name string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	sum := sha256.Sum256([]byte("lex-v1-bot:" + name))
	id := make([]byte, 10)
	for i := range id {
		id[i] = alphabet[int(sum[i])%len(alphabet)]
	}
	return string(id)
}

// Bot reports a loaded bot by id.
func (b *Brain) Bot(botID string) (lexlocal.BotInfo, bool) {
	bt, ok := b.bots[botID]
	if !ok {
		return lexlocal.BotInfo{}, false
	}
	return cloneInfo(bt.info), true
}

// Bots lists every loaded bot, sorted by name then id.
func (b *Brain) Bots() []lexlocal.BotInfo {
	out := make([]lexlocal.BotInfo, len(b.list))
	for i, info := range b.list {
		out[i] = cloneInfo(info)
	}
	return out
}

// cloneInfo copies what a caller could mutate, so no caller changes what
// another one sees.
func cloneInfo(info lexlocal.BotInfo) lexlocal.BotInfo {
	info.Aliases = slices.Clone(info.Aliases)
	for i := range info.Aliases {
		info.Aliases[i].Locales = maps.Clone(info.Aliases[i].Locales)
	}
	return info
}

// Recognize runs one turn; see the package documentation for the rules.
func (b *Brain) Recognize(_ context.Context, in lexlocal.RecognizeInput) (lexlocal.RecognizeOutput, error) {
	bt, ok := b.bots[in.BotID]
	if !ok {
		return lexlocal.RecognizeOutput{}, &lexlocal.Error{Type: lexlocal.ErrResourceNotFound,
			Message: fmt.Sprintf("Failed to retrieve resource since it does not exist: bot %s.", in.BotID)}
	}
	loc, ok := bt.locales[in.LocaleID]
	if !ok {
		return lexlocal.RecognizeOutput{}, &lexlocal.Error{Type: lexlocal.ErrResourceNotFound,
			Message: fmt.Sprintf("Failed to retrieve resource since it does not exist: locale %s of bot %s.", in.LocaleID, in.BotID)}
	}
	t := &turn{brain: b, v1: bt.v1, loc: loc, in: in, attrs: maps.Clone(in.SessionState.SessionAttributes)}
	if t.attrs == nil {
		t.attrs = map[string]string{}
	}
	return t.run(), nil
}

// intn picks uniformly in [0, n); n must be positive.
func (b *Brain) intn(n int) int {
	if n == 1 {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.rng.IntN(n)
}
