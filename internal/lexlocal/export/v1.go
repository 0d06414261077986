package export

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

type rawV1 struct {
	Metadata *struct {
		ImportType   string `json:"importType"`
		ImportFormat string `json:"importFormat"`
	} `json:"metadata"`
	Resource *struct {
		Name                    string       `json:"name"`
		Description             string       `json:"description"`
		Locale                  string       `json:"locale"`
		IdleSessionTTLInSeconds *int         `json:"idleSessionTTLInSeconds"`
		ClarificationPrompt     *rawV1Prompt `json:"clarificationPrompt"`
		AbortStatement          *rawV1Prompt `json:"abortStatement"`
		Intents                 []struct {
			Name                string       `json:"name"`
			SampleUtterances    []string     `json:"sampleUtterances"`
			ConfirmationPrompt  *rawV1Prompt `json:"confirmationPrompt"`
			RejectionStatement  *rawV1Prompt `json:"rejectionStatement"`
			ConclusionStatement *rawV1Prompt `json:"conclusionStatement"`
			FulfillmentActivity *struct {
				Type string `json:"type"`
			} `json:"fulfillmentActivity"`
			DialogCodeHook *json.RawMessage `json:"dialogCodeHook"`
			Slots          []struct {
				Name                   string       `json:"name"`
				SlotType               string       `json:"slotType"`
				SlotConstraint         string       `json:"slotConstraint"`
				Priority               int          `json:"priority"`
				ValueElicitationPrompt *rawV1Prompt `json:"valueElicitationPrompt"`
			} `json:"slots"`
		} `json:"intents"`
		SlotTypes []struct {
			Name              string `json:"name"`
			EnumerationValues []struct {
				Value    string   `json:"value"`
				Synonyms []string `json:"synonyms"`
			} `json:"enumerationValues"`
			ValueSelectionStrategy string `json:"valueSelectionStrategy"`
		} `json:"slotTypes"`
	} `json:"resource"`
}

type rawV1Prompt struct {
	Messages []struct {
		ContentType string `json:"contentType"`
		Content     string `json:"content"`
		GroupNumber *int   `json:"groupNumber"`
	} `json:"messages"`
	MaxAttempts *int `json:"maxAttempts"`
}

// v1Builtins maps V1's built-in slot type names to the V2 names the runtime
// implements; V1 spelled several of them differently.
var v1Builtins = map[string]string{
	"AMAZON.NUMBER":        "AMAZON.Number",
	"AMAZON.DATE":          "AMAZON.Date",
	"AMAZON.TIME":          "AMAZON.Time",
	"AMAZON.DURATION":      "AMAZON.Duration",
	"AMAZON.AlphaNumeric":  "AMAZON.AlphaNumeric",
	"AMAZON.US_CITY":       "AMAZON.City",
	"AMAZON.EUROPE_CITY":   "AMAZON.City",
	"AMAZON.US_STATE":      "AMAZON.State",
	"AMAZON.Country":       "AMAZON.Country",
	"AMAZON.EmailAddress":  "AMAZON.EmailAddress",
	"AMAZON.PhoneNumber":   "AMAZON.PhoneNumber",
	"AMAZON.US_FIRST_NAME": "AMAZON.FirstName",
	"AMAZON.GB_FIRST_NAME": "AMAZON.FirstName",
	"AMAZON.Percentage":    "AMAZON.Percentage",
}

// LoadV1 loads a V1 export JSON document (the "Lex" format, bot resource).
// name only labels errors. V1 has one locale per bot; V1 prompts count
// maxAttempts including the first ask, kept in Prompt.MaxAttempts.
func LoadV1(r io.Reader, name string) (*Bot, error) {
	bot, err := loadV1(r, defaultLimits)
	if err != nil {
		return nil, withSource(err, name)
	}
	return bot, nil
}

func loadV1(r io.Reader, lim limits) (*Bot, error) {
	// The whole export is one file, so it gets the total budget.
	data, err := io.ReadAll(io.LimitReader(r, lim.maxTotal+1))
	if err != nil {
		return nil, &Error{Msg: "cannot read: " + err.Error(), Err: err}
	}
	if int64(len(data)) > lim.maxTotal {
		return nil, errAt("", "", "larger than the limit of %d bytes", lim.maxTotal)
	}
	var raw rawV1
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, jsonErr("", data, err)
	}
	if raw.Metadata != nil && raw.Metadata.ImportType != "" && raw.Metadata.ImportType != "LEX" {
		return nil, errAt("", "metadata.importType", "%q is not LEX", raw.Metadata.ImportType)
	}
	res := raw.Resource
	if res == nil {
		return nil, errAt("", "resource", "missing: not a V1 bot export")
	}
	if res.Name == "" {
		return nil, errAt("", "resource.name", "missing")
	}
	if res.Locale == "" {
		return nil, errAt("", "resource.locale", "missing")
	}
	// V1 writes en-US, V2 en_US; the runtime speaks V2.
	locID := strings.ReplaceAll(res.Locale, "-", "_")
	bot := &Bot{Name: res.Name, Description: res.Description, V1: true, Locales: map[string]*Locale{}}
	if t := res.IdleSessionTTLInSeconds; t != nil {
		if *t < 60 || *t > 86400 {
			return nil, errAt("", "resource.idleSessionTTLInSeconds", "%d is outside 60..86400", *t)
		}
		bot.IdleSessionTTL = time.Duration(*t) * time.Second
	}
	// V1 has no confidence threshold; it clarifies instead. Use V2's default
	// so the shared matcher has a cutoff.
	loc := &Locale{ID: locID, ConfidenceThreshold: defaultThreshold, SlotTypes: map[string]*SlotType{}}
	if res.ClarificationPrompt != nil {
		if loc.Clarification, err = convV1Prompt("resource.clarificationPrompt", res.ClarificationPrompt, true); err != nil {
			return nil, err
		}
	}
	if res.AbortStatement != nil {
		if loc.Abort, err = convV1Groups("resource.abortStatement", res.AbortStatement); err != nil {
			return nil, err
		}
	}
	for i, st := range res.SlotTypes {
		f := fmt.Sprintf("resource.slotTypes[%d]", i)
		if st.Name == "" {
			return nil, errAt("", f+".name", "missing")
		}
		if _, dup := loc.SlotTypes[st.Name]; dup {
			return nil, errAt("", f+".name", "duplicate slot type %q", st.Name)
		}
		if len(st.EnumerationValues) == 0 {
			return nil, errAt("", f+".enumerationValues", "a custom slot type needs values")
		}
		t := &SlotType{Name: st.Name}
		switch st.ValueSelectionStrategy {
		case "", "ORIGINAL_VALUE":
		case "TOP_RESOLUTION":
			t.Strategy = TopResolution
		default:
			return nil, errAt("", f+".valueSelectionStrategy", "%q is neither ORIGINAL_VALUE nor TOP_RESOLUTION", st.ValueSelectionStrategy)
		}
		for j, v := range st.EnumerationValues {
			if strings.TrimSpace(v.Value) == "" {
				return nil, errAt("", fmt.Sprintf("%s.enumerationValues[%d].value", f, j), "empty")
			}
			t.Values = append(t.Values, SlotValue{Value: v.Value, Synonyms: v.Synonyms})
		}
		loc.SlotTypes[st.Name] = t
	}
	for i, ri := range res.Intents {
		f := fmt.Sprintf("resource.intents[%d]", i)
		if ri.Name == "" {
			return nil, errAt("", f+".name", "missing")
		}
		if loc.Intent(ri.Name) != nil {
			return nil, errAt("", f+".name", "duplicate intent %q", ri.Name)
		}
		in := &Intent{Name: ri.Name}
		for j, u := range ri.SampleUtterances {
			if strings.TrimSpace(u) == "" {
				return nil, errAt("", fmt.Sprintf("%s.sampleUtterances[%d]", f, j), "empty")
			}
			in.Utterances = append(in.Utterances, u)
		}
		if ri.ConfirmationPrompt != nil {
			if in.Confirmation, err = convV1Prompt(f+".confirmationPrompt", ri.ConfirmationPrompt, true); err != nil {
				return nil, err
			}
		}
		if ri.RejectionStatement != nil {
			if in.Declination, err = convV1Groups(f+".rejectionStatement", ri.RejectionStatement); err != nil {
				return nil, err
			}
		}
		if ri.ConclusionStatement != nil {
			if in.Closing, err = convV1Groups(f+".conclusionStatement", ri.ConclusionStatement); err != nil {
				return nil, err
			}
		}
		in.FulfillmentCodeHook = ri.FulfillmentActivity != nil && ri.FulfillmentActivity.Type == "CodeHook"
		in.DialogCodeHook = ri.DialogCodeHook != nil && string(*ri.DialogCodeHook) != "null"
		order := make([]int, len(ri.Slots))
		for j := range order {
			order[j] = j
		}
		sort.SliceStable(order, func(a, b int) bool { return ri.Slots[order[a]].Priority < ri.Slots[order[b]].Priority })
		seen := map[string]bool{}
		for _, j := range order {
			rs := ri.Slots[j]
			sf := fmt.Sprintf("%s.slots[%d]", f, j)
			if rs.Name == "" {
				return nil, errAt("", sf+".name", "missing")
			}
			if seen[rs.Name] {
				return nil, errAt("", sf+".name", "duplicate slot %q", rs.Name)
			}
			seen[rs.Name] = true
			typ := rs.SlotType
			if v2, ok := v1Builtins[typ]; ok {
				typ = v2
			} else if _, ok := loc.SlotTypes[typ]; !ok {
				return nil, errAt("", sf+".slotType", "unknown slot type %q", rs.SlotType)
			}
			s := &Slot{Name: rs.Name, Type: typ}
			switch rs.SlotConstraint {
			case "Required":
				s.Required = true
			case "Optional":
			default:
				return nil, errAt("", sf+".slotConstraint", "%q is neither Required nor Optional", rs.SlotConstraint)
			}
			if rs.ValueElicitationPrompt != nil {
				if s.Prompt, err = convV1Prompt(sf+".valueElicitationPrompt", rs.ValueElicitationPrompt, true); err != nil {
					return nil, err
				}
			} else if s.Required {
				return nil, errAt("", sf+".valueElicitationPrompt", "a required slot needs a prompt")
			}
			in.Slots = append(in.Slots, s)
		}
		loc.Intents = append(loc.Intents, in)
	}
	sort.Slice(loc.Intents, func(a, b int) bool { return loc.Intents[a].Name < loc.Intents[b].Name })
	bot.Locales[locID] = loc
	return bot, nil
}

func convV1Prompt(field string, p *rawV1Prompt, needAttempts bool) (*Prompt, error) {
	g, err := convV1Groups(field, p)
	if err != nil {
		return nil, err
	}
	if p.MaxAttempts == nil {
		if needAttempts {
			return nil, errAt("", field+".maxAttempts", "missing")
		}
		return &Prompt{MessageGroups: *g}, nil
	}
	// V1 allows 1..5 attempts.
	if *p.MaxAttempts < 1 || *p.MaxAttempts > 5 {
		return nil, errAt("", field+".maxAttempts", "%d is outside 1..5", *p.MaxAttempts)
	}
	return &Prompt{MessageGroups: *g, MaxAttempts: *p.MaxAttempts, MaxRetries: *p.MaxAttempts - 1}, nil
}

// convV1Groups groups V1 messages by groupNumber: V1 sends one message from
// each group, which is what a V2 message group with variations expresses.
func convV1Groups(field string, p *rawV1Prompt) (*MessageGroups, error) {
	if len(p.Messages) == 0 {
		return nil, errAt("", field+".messages", "at least one message is needed")
	}
	byGroup := map[int]*MessageGroup{}
	var order []int
	for i, rm := range p.Messages {
		f := fmt.Sprintf("%s.messages[%d]", field, i)
		var kind MessageKind
		switch rm.ContentType {
		case "PlainText":
			kind = PlainText
		case "SSML":
			kind = SSML
		case "CustomPayload":
			kind = CustomPayload
		default:
			return nil, errAt("", f+".contentType", "%q is not PlainText, SSML or CustomPayload", rm.ContentType)
		}
		if strings.TrimSpace(rm.Content) == "" {
			return nil, errAt("", f+".content", "empty")
		}
		n := 1
		if rm.GroupNumber != nil {
			n = *rm.GroupNumber
		}
		m := Message{Kind: kind, Text: rm.Content}
		if g, ok := byGroup[n]; ok {
			g.Variations = append(g.Variations, m)
			continue
		}
		byGroup[n] = &MessageGroup{Message: m}
		order = append(order, n)
	}
	sort.Ints(order)
	out := &MessageGroups{}
	for _, n := range order {
		out.Groups = append(out.Groups, *byGroup[n])
	}
	return out, nil
}
