package lexlocal

import (
	"encoding/json"
	"strconv"
	"time"
)

// The types below mirror the Lex V2 runtime JSON shapes field for field. They
// are exported because a Brain speaks them: the dialog manager builds a
// SessionState and the server writes it to the wire unchanged, so there is no
// second model to keep in sync with AWS.

// SessionState is Lex's sessionState object.
type SessionState struct {
	DialogAction         *DialogAction     `json:"dialogAction,omitempty"`
	Intent               *Intent           `json:"intent,omitempty"`
	ActiveContexts       json.RawMessage   `json:"activeContexts,omitempty"`
	SessionAttributes    map[string]string `json:"sessionAttributes"`
	OriginatingRequestID string            `json:"originatingRequestId,omitempty"`
	RuntimeHints         json.RawMessage   `json:"runtimeHints,omitempty"`
	// Attempts counts how often the pending question (a slot, a
	// confirmation, a V1 clarification) has gone unanswered. Lex keeps this
	// count out of sight, so it never goes on the wire: the server carries
	// it from turn to turn, and a client-sent sessionState starts afresh.
	Attempts int `json:"-"`
}

// DialogAction is Lex's dialogAction object; Type is one of Close,
// ConfirmIntent, Delegate, ElicitIntent, ElicitSlot, None.
type DialogAction struct {
	Type                 string `json:"type"`
	SlotToElicit         string `json:"slotToElicit,omitempty"`
	SlotElicitationStyle string `json:"slotElicitationStyle,omitempty"`
}

// Intent is Lex's intent object. A nil *Slot in Slots is an unfilled slot and
// is written as JSON null, exactly as real Lex does (and as lexruntimev2
// v1.38.0 is pinned to accept).
type Intent struct {
	Name              string           `json:"name"`
	Slots             map[string]*Slot `json:"slots"`
	State             string           `json:"state,omitempty"`
	ConfirmationState string           `json:"confirmationState,omitempty"`
}

// MarshalJSON writes "slots": {} rather than null for a slotless intent,
// which is what Lex sends for FallbackIntent and friends.
func (i Intent) MarshalJSON() ([]byte, error) {
	return json.Marshal(i.wire())
}

// wireIntent is Intent as it goes on the wire. It has the same fields, so
// the compiler keeps the two in step, but no MarshalJSON: encoding/json
// re-scans and compacts whatever a MarshalJSON returns, and an answer holds
// up to six intents. The server encodes its answers through the wire types.
type wireIntent struct {
	Name              string           `json:"name"`
	Slots             map[string]*Slot `json:"slots"`
	State             string           `json:"state,omitempty"`
	ConfirmationState string           `json:"confirmationState,omitempty"`
}

func (i *Intent) wire() *wireIntent {
	if i == nil {
		return nil
	}
	w := wireIntent(*i)
	if w.Slots == nil {
		w.Slots = map[string]*Slot{}
	}
	return &w
}

// wireState is SessionState as it goes on the wire; see wireIntent.
type wireState struct {
	DialogAction         *DialogAction     `json:"dialogAction,omitempty"`
	Intent               *wireIntent       `json:"intent,omitempty"`
	ActiveContexts       json.RawMessage   `json:"activeContexts,omitempty"`
	SessionAttributes    map[string]string `json:"sessionAttributes"`
	OriginatingRequestID string            `json:"originatingRequestId,omitempty"`
	RuntimeHints         json.RawMessage   `json:"runtimeHints,omitempty"`
}

func (s *SessionState) wire() *wireState {
	if s == nil {
		return nil
	}
	return &wireState{
		DialogAction: s.DialogAction, Intent: s.Intent.wire(), ActiveContexts: s.ActiveContexts,
		SessionAttributes: s.SessionAttributes, OriginatingRequestID: s.OriginatingRequestID, RuntimeHints: s.RuntimeHints,
	}
}

// wireInterpretation is Interpretation as it goes on the wire; see wireIntent.
type wireInterpretation struct {
	Intent               *wireIntent      `json:"intent,omitempty"`
	NLUConfidence        *ConfidenceScore `json:"nluConfidence,omitempty"`
	InterpretationSource string           `json:"interpretationSource,omitempty"`
}

func wireInterpretations(in []Interpretation) []wireInterpretation {
	if in == nil {
		return nil
	}
	out := make([]wireInterpretation, len(in))
	for i, v := range in {
		out[i] = wireInterpretation{Intent: v.Intent.wire(), NLUConfidence: v.NLUConfidence, InterpretationSource: v.InterpretationSource}
	}
	return out
}

// Slot is Lex's slot object.
type Slot struct {
	Value    *SlotValue       `json:"value,omitempty"`
	Shape    string           `json:"shape,omitempty"`
	Values   []*Slot          `json:"values,omitempty"`
	SubSlots map[string]*Slot `json:"subSlots,omitempty"`
}

// SlotValue is Lex's value object inside a slot.
type SlotValue struct {
	OriginalValue    string   `json:"originalValue"`
	InterpretedValue string   `json:"interpretedValue"`
	ResolvedValues   []string `json:"resolvedValues"`
}

// Message is one entry of messages[]; ContentType is PlainText, SSML,
// CustomPayload or ImageResponseCard.
type Message struct {
	Content           string             `json:"content,omitempty"`
	ContentType       string             `json:"contentType"`
	ImageResponseCard *ImageResponseCard `json:"imageResponseCard,omitempty"`
}

// ImageResponseCard is Lex's response card.
type ImageResponseCard struct {
	Title    string   `json:"title"`
	Subtitle string   `json:"subtitle,omitempty"`
	ImageURL string   `json:"imageUrl,omitempty"`
	Buttons  []Button `json:"buttons,omitempty"`
}

// Button is a response-card button.
type Button struct {
	Text  string `json:"text"`
	Value string `json:"value"`
}

// Interpretation is one entry of interpretations[]. NLUConfidence is nil for
// FallbackIntent: Lex sends no score for it, and clients tell the two apart
// by that absence.
type Interpretation struct {
	Intent               *Intent          `json:"intent,omitempty"`
	NLUConfidence        *ConfidenceScore `json:"nluConfidence,omitempty"`
	InterpretationSource string           `json:"interpretationSource,omitempty"`
}

// ConfidenceScore is Lex's nluConfidence object.
type ConfidenceScore struct {
	Score float64 `json:"score"`
}

// recognizeTextRequest is the RecognizeText body; the path carries the ids.
type recognizeTextRequest struct {
	Text              *string           `json:"text"`
	SessionState      *SessionState     `json:"sessionState"`
	RequestAttributes map[string]string `json:"requestAttributes"`
}

type recognizeTextResponse struct {
	Messages          []Message            `json:"messages,omitempty"`
	SessionState      *wireState           `json:"sessionState"`
	Interpretations   []wireInterpretation `json:"interpretations,omitempty"`
	RequestAttributes map[string]string    `json:"requestAttributes,omitempty"`
	SessionID         string               `json:"sessionId"`
}

type getSessionResponse struct {
	SessionID       string               `json:"sessionId"`
	Messages        []Message            `json:"messages,omitempty"`
	Interpretations []wireInterpretation `json:"interpretations,omitempty"`
	SessionState    *wireState           `json:"sessionState"`
}

type putSessionRequest struct {
	SessionState      *SessionState     `json:"sessionState"`
	Messages          []Message         `json:"messages"`
	RequestAttributes map[string]string `json:"requestAttributes"`
}

type deleteSessionResponse struct {
	BotID      string `json:"botId"`
	BotAliasID string `json:"botAliasId"`
	LocaleID   string `json:"localeId"`
	SessionID  string `json:"sessionId"`
}

// epochSeconds is how restJson1 writes timestamps by default: a JSON number
// of seconds, fractional part allowed.
type epochSeconds time.Time

func (t epochSeconds) MarshalJSON() ([]byte, error) {
	tt := time.Time(t)
	return strconv.AppendFloat(nil, float64(tt.UnixMilli())/1000, 'f', -1, 64), nil
}

type describeBotResponse struct {
	BotID                   string       `json:"botId"`
	BotName                 string       `json:"botName"`
	Description             string       `json:"description,omitempty"`
	RoleArn                 string       `json:"roleArn"`
	DataPrivacy             dataPrivacy  `json:"dataPrivacy"`
	IdleSessionTTLInSeconds int          `json:"idleSessionTTLInSeconds"`
	BotStatus               string       `json:"botStatus"`
	BotType                 string       `json:"botType"`
	CreationDateTime        epochSeconds `json:"creationDateTime"`
	LastUpdatedDateTime     epochSeconds `json:"lastUpdatedDateTime"`
}

type dataPrivacy struct {
	ChildDirected bool `json:"childDirected"`
}

type describeBotAliasResponse struct {
	BotAliasID             string                           `json:"botAliasId"`
	BotAliasName           string                           `json:"botAliasName"`
	Description            string                           `json:"description,omitempty"`
	BotVersion             string                           `json:"botVersion"`
	BotAliasLocaleSettings map[string]botAliasLocaleSetting `json:"botAliasLocaleSettings"`
	BotAliasStatus         string                           `json:"botAliasStatus"`
	BotID                  string                           `json:"botId"`
	CreationDateTime       epochSeconds                     `json:"creationDateTime"`
	LastUpdatedDateTime    epochSeconds                     `json:"lastUpdatedDateTime"`
	SentimentAnalysis      sentimentAnalysisSettings        `json:"sentimentAnalysisSettings"`
}

type sentimentAnalysisSettings struct {
	DetectSentiment bool `json:"detectSentiment"`
}

type botAliasLocaleSetting struct {
	Enabled               bool                   `json:"enabled"`
	CodeHookSpecification *codeHookSpecification `json:"codeHookSpecification,omitempty"`
}

type codeHookSpecification struct {
	LambdaCodeHook lambdaCodeHook `json:"lambdaCodeHook"`
}

type lambdaCodeHook struct {
	LambdaARN                string `json:"lambdaARN"`
	CodeHookInterfaceVersion string `json:"codeHookInterfaceVersion"`
}

type listBotAliasesRequest struct {
	MaxResults *int   `json:"maxResults"`
	NextToken  string `json:"nextToken"`
}

type listBotAliasesResponse struct {
	BotAliasSummaries []botAliasSummary `json:"botAliasSummaries"`
	NextToken         string            `json:"nextToken,omitempty"`
	BotID             string            `json:"botId"`
}

type botAliasSummary struct {
	BotAliasID          string       `json:"botAliasId"`
	BotAliasName        string       `json:"botAliasName"`
	Description         string       `json:"description,omitempty"`
	BotVersion          string       `json:"botVersion"`
	BotAliasStatus      string       `json:"botAliasStatus"`
	CreationDateTime    epochSeconds `json:"creationDateTime"`
	LastUpdatedDateTime epochSeconds `json:"lastUpdatedDateTime"`
}
