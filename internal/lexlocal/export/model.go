// Package export loads Amazon Lex bot definitions — V2 "LexJson" export
// archives (zipped or unzipped) and V1 export JSON — into a plain Go model
// that the local runtime's dialog manager executes.
//
// The package deliberately does not import lexlocal: the runtime will import
// it, and the model is meant to stay a description of a bot, free of wire
// concerns. Loading is all-or-nothing: any error returns a nil *Bot, so a
// caller can never run a half-imported bot.
package export

import "time"

// Bot is one imported bot.
type Bot struct {
	// ID is Bot.json's identifier (empty for V1 exports, which have none);
	// the runtime keeps it as the bot id so clients need no reconfiguration.
	ID          string
	Name        string
	Description string
	// IdleSessionTTL is zero when the export does not set it.
	IdleSessionTTL time.Duration
	// Locales is keyed by Lex locale id, e.g. "en_US".
	Locales map[string]*Locale
	// V1 marks a bot imported from a V1 export: the dialog manager then
	// applies V1 semantics (Locale.Clarification, then Locale.Abort and
	// state Failed) instead of V2's FallbackIntent.
	V1 bool
}

// Locale is one language of a bot.
type Locale struct {
	ID string
	// ConfidenceThreshold is nluConfidenceThreshold; below it the runtime
	// answers FallbackIntent.
	ConfidenceThreshold float64
	// Intents are sorted by name so that matching ties break the same way on
	// every load.
	Intents []*Intent
	// SlotTypes holds custom types only; built-ins are referenced by name
	// (see IsBuiltinSlotType).
	SlotTypes map[string]*SlotType
	// Clarification and Abort are set only for V1 bots.
	Clarification *Prompt
	Abort         *MessageGroups
}

// Intent returns the locale's intent with that name.
func (l *Locale) Intent(name string) *Intent {
	for _, in := range l.Intents {
		if in.Name == name {
			return in
		}
	}
	return nil
}

// Intent is one intent of a locale.
type Intent struct {
	Name string
	// ParentSignature is e.g. "AMAZON.FallbackIntent" for built-in intents.
	ParentSignature string
	Utterances      []string
	// Slots are in elicitation order (slotPriorities, lowest number first).
	Slots        []*Slot
	Confirmation *Prompt
	Declination  *MessageGroups
	Closing      *MessageGroups
	Initial      *MessageGroups
	// The code hooks are reported, not run: the local runtime has no Lambda.
	FulfillmentCodeHook bool
	DialogCodeHook      bool
}

// Slot is one slot of an intent.
type Slot struct {
	Name     string
	Type     string
	Required bool
	Prompt   *Prompt
}

// Prompt is a question the bot asks, with how often it may re-ask.
type Prompt struct {
	MessageGroups
	// MaxRetries counts re-asks after the first prompt (V2's meaning). For V1
	// bots it is MaxAttempts-1.
	MaxRetries int
	// MaxAttempts is V1's original count (0 for V2); kept so the V1 dialog
	// semantics need not reverse a conversion.
	MaxAttempts int
}

// MessageGroups is what Lex calls a messageGroupsList: each group yields one
// message per turn, picked from the group's message and its variations.
type MessageGroups struct {
	Groups []MessageGroup
}

// MessageGroup is one group of a MessageGroups.
type MessageGroup struct {
	Message    Message
	Variations []Message
}

// MessageKind is the message's content type.
type MessageKind int

// The kinds, named after Lex's contentType values (see String).
const (
	PlainText MessageKind = iota
	CustomPayload
	SSML
	ImageResponseCard
)

// String returns Lex's contentType spelling, so the runtime can put it on
// the wire unchanged.
func (k MessageKind) String() string {
	switch k {
	case PlainText:
		return "PlainText"
	case CustomPayload:
		return "CustomPayload"
	case SSML:
		return "SSML"
	case ImageResponseCard:
		return "ImageResponseCard"
	}
	return "Unknown"
}

// Message is one message. Text holds the plain text, payload or SSML; Card
// is set only for ImageResponseCard.
type Message struct {
	Kind MessageKind
	Text string
	Card *Card
}

// Card is an image response card.
type Card struct {
	Title    string
	Subtitle string
	ImageURL string
	Buttons  []Button
}

// Button is one button of a Card.
type Button struct {
	Text  string
	Value string
}

// Strategy is a slot type's value selection strategy.
type Strategy int

const (
	// OriginalValue returns what the user said when it resembles a value.
	OriginalValue Strategy = iota
	// TopResolution returns the canonical value a synonym resolves to.
	TopResolution
)

func (s Strategy) String() string {
	if s == TopResolution {
		return "TOP_RESOLUTION"
	}
	return "ORIGINAL_VALUE"
}

// SlotType is a custom slot type.
type SlotType struct {
	Name string
	// Parent is parentSlotTypeSignature (e.g. "AMAZON.AlphaNumeric" for an
	// extended built-in); empty for plain enumerations.
	Parent   string
	Values   []SlotValue
	Strategy Strategy
}

// SlotValue is one value of a slot type with its synonyms.
type SlotValue struct {
	Value    string
	Synonyms []string
}

// builtinSlotTypes are the Lex V2 built-in slot types an export may name.
// A name outside this list is refused rather than silently treated as free
// text, so a typo in an export surfaces at import time.
var builtinSlotTypes = map[string]bool{
	"AMAZON.AlphaNumeric":  true,
	"AMAZON.City":          true,
	"AMAZON.Confirmation":  true,
	"AMAZON.Country":       true,
	"AMAZON.Date":          true,
	"AMAZON.Duration":      true,
	"AMAZON.EmailAddress":  true,
	"AMAZON.FirstName":     true,
	"AMAZON.FreeFormInput": true,
	"AMAZON.LastName":      true,
	"AMAZON.Number":        true,
	"AMAZON.Percentage":    true,
	"AMAZON.PhoneNumber":   true,
	"AMAZON.SpeedUnit":     true,
	"AMAZON.State":         true,
	"AMAZON.StreetName":    true,
	"AMAZON.Time":          true,
	"AMAZON.UKPostalCode":  true,
	"AMAZON.WeightUnit":    true,
}

// IsBuiltinSlotType reports whether name is a Lex V2 built-in slot type.
func IsBuiltinSlotType(name string) bool { return builtinSlotTypes[name] }
