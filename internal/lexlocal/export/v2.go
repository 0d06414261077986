package export

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"
)

// The raw* types mirror the LexJson files. Only the fields the runtime uses
// are declared; everything else in a real export (voice settings, code-hook
// wiring, conditional branches...) is ignored rather than refused, since
// exports carry far more than a text runtime needs.

type rawManifest struct {
	// Exports have been seen with both spellings; the docs show "metadata",
	// real exports write "metaData".
	Metadata *rawManifestMeta `json:"metadata"`
	MetaData *rawManifestMeta `json:"metaData"`
}

type rawManifestMeta struct {
	SchemaVersion string `json:"schemaVersion"`
	FileFormat    string `json:"fileFormat"`
	ResourceType  string `json:"resourceType"`
}

type rawBot struct {
	Name                    string  `json:"name"`
	Identifier              string  `json:"identifier"`
	Description             *string `json:"description"`
	IdleSessionTTLInSeconds *int    `json:"idleSessionTTLInSeconds"`
}

type rawBotLocale struct {
	Identifier             string   `json:"identifier"`
	NluConfidenceThreshold *float64 `json:"nluConfidenceThreshold"`
}

// rawGroups accepts the three spellings of a message-group list seen in
// exports and in the API docs.
type rawGroups struct {
	MessageGroupsList []rawGroup `json:"messageGroupsList"`
	MessageGroups     []rawGroup `json:"messageGroups"`
	MessageGroupList  []rawGroup `json:"messageGroupList"`
}

type rawGroup struct {
	Message    *rawMessage  `json:"message"`
	Variations []rawMessage `json:"variations"`
}

type rawValue struct {
	Value string `json:"value"`
}

type rawMessage struct {
	PlainTextMessage  *rawValue `json:"plainTextMessage"`
	CustomPayload     *rawValue `json:"customPayload"`
	SSMLMessage       *rawValue `json:"ssmlMessage"`
	ImageResponseCard *struct {
		Title    string `json:"title"`
		Subtitle string `json:"subtitle"`
		ImageURL string `json:"imageUrl"`
		Buttons  []struct {
			Text  string `json:"text"`
			Value string `json:"value"`
		} `json:"buttons"`
	} `json:"imageResponseCard"`
}

type rawPromptSpec struct {
	rawGroups
	MaxRetries *int `json:"maxRetries"`
}

type rawIntent struct {
	Name                  string  `json:"name"`
	ParentIntentSignature *string `json:"parentIntentSignature"`
	SampleUtterances      []struct {
		Utterance string `json:"utterance"`
	} `json:"sampleUtterances"`
	SlotPriorities []struct {
		Priority int    `json:"priority"`
		SlotName string `json:"slotName"`
	} `json:"slotPriorities"`
	IntentConfirmationSetting *struct {
		Active              *bool          `json:"active"`
		PromptSpecification *rawPromptSpec `json:"promptSpecification"`
		DeclinationResponse *rawGroups     `json:"declinationResponse"`
	} `json:"intentConfirmationSetting"`
	IntentClosingSetting *struct {
		Active          *bool      `json:"active"`
		ClosingResponse *rawGroups `json:"closingResponse"`
	} `json:"intentClosingSetting"`
	InitialResponseSetting *struct {
		InitialResponse *rawGroups `json:"initialResponse"`
	} `json:"initialResponseSetting"`
	FulfillmentCodeHook *struct {
		Enabled bool `json:"enabled"`
	} `json:"fulfillmentCodeHook"`
	DialogCodeHook *struct {
		Enabled bool `json:"enabled"`
	} `json:"dialogCodeHook"`
}

type rawSlot struct {
	Name                    string `json:"name"`
	SlotTypeName            string `json:"slotTypeName"`
	ValueElicitationSetting *struct {
		SlotConstraint      string         `json:"slotConstraint"`
		PromptSpecification *rawPromptSpec `json:"promptSpecification"`
	} `json:"valueElicitationSetting"`
}

type rawSlotType struct {
	Name                    string  `json:"name"`
	ParentSlotTypeSignature *string `json:"parentSlotTypeSignature"`
	SlotTypeValues          []struct {
		SampleValue *rawValue  `json:"sampleValue"`
		Synonyms    []rawValue `json:"synonyms"`
	} `json:"slotTypeValues"`
	ValueSelectionSetting *struct {
		ResolutionStrategy string `json:"resolutionStrategy"`
	} `json:"valueSelectionSetting"`
}

// defaultThreshold is what the Lex console proposes; used when a
// BotLocale.json omits nluConfidenceThreshold.
const defaultThreshold = 0.40

// localeFiles groups one locale's files, found by walking the export.
type localeFiles struct {
	locale    string              // BotLocale.json path, "" if absent
	intents   map[string]string   // intent dir name -> Intent.json
	slots     map[string][]string // intent dir name -> Slot.json paths
	slotTypes map[string]string   // type dir name -> SlotType.json
	dir       string
}

// loadFS is the single V2 code path for zips and directories.
func loadFS(fsys fs.FS, lim limits) (*Bot, error) {
	files, err := listFiles(fsys, lim)
	if err != nil {
		return nil, err
	}
	r := &reader{fsys: fsys, lim: lim}

	manifest := ""
	var botFiles []string
	for _, f := range files {
		switch {
		case f == "Manifest.json" || f == "manifest.json":
			if manifest != "" {
				return nil, errAt(f, "", "second manifest next to %s", manifest)
			}
			manifest = f
		case path.Base(f) == "Bot.json" && strings.Count(f, "/") <= 1:
			botFiles = append(botFiles, f)
		}
	}
	if manifest == "" {
		return nil, errAt("Manifest.json", "", "missing: not a LexJson export")
	}
	var m rawManifest
	if err := r.decode(manifest, &m); err != nil {
		return nil, err
	}
	meta, field := m.MetaData, "metaData"
	if m.Metadata != nil {
		if meta != nil {
			return nil, errAt(manifest, "metadata", "both metadata and metaData are present")
		}
		meta, field = m.Metadata, "metadata"
	}
	switch {
	case meta == nil:
		return nil, errAt(manifest, "metaData", "missing")
	case !strings.EqualFold(meta.FileFormat, "LexJson"):
		return nil, errAt(manifest, field+".fileFormat", "%q is not LexJson", meta.FileFormat)
	case !strings.EqualFold(meta.ResourceType, "Bot"):
		// BotLocale and CustomVocabulary exports lack Bot.json and cannot
		// stand alone as a bot.
		return nil, errAt(manifest, field+".resourceType", "%q: only whole-bot exports can be loaded", meta.ResourceType)
	}
	if len(botFiles) != 1 {
		return nil, errAt("", "", "expected exactly one Bot.json at the top or one directory down, found %d", len(botFiles))
	}
	botFile := botFiles[0]
	root := path.Dir(botFile)
	var rb rawBot
	if err := r.decode(botFile, &rb); err != nil {
		return nil, err
	}
	if rb.Name == "" {
		return nil, errAt(botFile, "name", "missing")
	}
	bot := &Bot{ID: rb.Identifier, Name: rb.Name, Locales: map[string]*Locale{}}
	if rb.Description != nil {
		bot.Description = *rb.Description
	}
	if rb.IdleSessionTTLInSeconds != nil {
		ttl := *rb.IdleSessionTTLInSeconds
		// Lex accepts 60 s to 24 h.
		if ttl < 60 || ttl > 86400 {
			return nil, errAt(botFile, "idleSessionTTLInSeconds", "%d is outside 60..86400", ttl)
		}
		bot.IdleSessionTTL = time.Duration(ttl) * time.Second
	}

	prefix := "BotLocales/"
	if root != "." {
		prefix = root + "/BotLocales/"
	}
	locales := map[string]*localeFiles{}
	for _, f := range files {
		rest, ok := strings.CutPrefix(f, prefix)
		if !ok {
			continue
		}
		parts := strings.Split(rest, "/")
		lf := locales[parts[0]]
		if lf == nil {
			lf = &localeFiles{intents: map[string]string{}, slots: map[string][]string{}, slotTypes: map[string]string{}, dir: prefix + parts[0]}
			locales[parts[0]] = lf
		}
		switch {
		case len(parts) == 2 && parts[1] == "BotLocale.json":
			lf.locale = f
		case len(parts) == 4 && parts[1] == "Intents" && parts[3] == "Intent.json":
			lf.intents[parts[2]] = f
		case len(parts) == 6 && parts[1] == "Intents" && parts[3] == "Slots" && parts[5] == "Slot.json":
			lf.slots[parts[2]] = append(lf.slots[parts[2]], f)
		case len(parts) == 4 && parts[1] == "SlotTypes" && parts[3] == "SlotType.json":
			lf.slotTypes[parts[2]] = f
		}
	}
	if len(locales) == 0 {
		return nil, errAt(botFile, "", "the export has no locales (no %s<locale>/BotLocale.json)", prefix)
	}
	for _, id := range sortedKeys(locales) {
		loc, err := loadLocale(r, id, locales[id])
		if err != nil {
			return nil, err
		}
		bot.Locales[id] = loc
	}
	return bot, nil
}

func loadLocale(r *reader, id string, lf *localeFiles) (*Locale, error) {
	if lf.locale == "" {
		return nil, errAt(lf.dir+"/BotLocale.json", "", "missing")
	}
	var rl rawBotLocale
	if err := r.decode(lf.locale, &rl); err != nil {
		return nil, err
	}
	if rl.Identifier != id {
		return nil, errAt(lf.locale, "identifier", "%q does not match its directory %q", rl.Identifier, id)
	}
	loc := &Locale{ID: id, ConfidenceThreshold: defaultThreshold, SlotTypes: map[string]*SlotType{}}
	if t := rl.NluConfidenceThreshold; t != nil {
		if *t < 0 || *t > 1 {
			return nil, errAt(lf.locale, "nluConfidenceThreshold", "%v is outside 0..1", *t)
		}
		loc.ConfidenceThreshold = *t
	}
	// Slot types first: slots are checked against them.
	for _, dir := range sortedKeys(lf.slotTypes) {
		st, err := loadSlotType(r, dir, lf.slotTypes[dir])
		if err != nil {
			return nil, err
		}
		loc.SlotTypes[st.Name] = st
	}
	for dir, slots := range lf.slots {
		if _, ok := lf.intents[dir]; !ok {
			return nil, errAt(slots[0], "", "slot of intent %q, which has no Intent.json", dir)
		}
	}
	for _, dir := range sortedKeys(lf.intents) {
		in, err := loadIntent(r, loc, dir, lf.intents[dir], lf.slots[dir])
		if err != nil {
			return nil, err
		}
		loc.Intents = append(loc.Intents, in)
	}
	return loc, nil
}

func loadSlotType(r *reader, dir, file string) (*SlotType, error) {
	var rs rawSlotType
	if err := r.decode(file, &rs); err != nil {
		return nil, err
	}
	if rs.Name != dir {
		return nil, errAt(file, "name", "%q does not match its directory %q", rs.Name, dir)
	}
	if IsBuiltinSlotType(rs.Name) {
		return nil, errAt(file, "name", "%q redefines a built-in slot type", rs.Name)
	}
	st := &SlotType{Name: rs.Name}
	if rs.ParentSlotTypeSignature != nil {
		st.Parent = *rs.ParentSlotTypeSignature
		if !IsBuiltinSlotType(st.Parent) {
			return nil, errAt(file, "parentSlotTypeSignature", "unknown built-in slot type %q", st.Parent)
		}
	}
	if len(rs.SlotTypeValues) == 0 && st.Parent == "" {
		return nil, errAt(file, "slotTypeValues", "a custom slot type needs values")
	}
	for i, v := range rs.SlotTypeValues {
		f := fmt.Sprintf("slotTypeValues[%d]", i)
		if v.SampleValue == nil || strings.TrimSpace(v.SampleValue.Value) == "" {
			return nil, errAt(file, f+".sampleValue.value", "missing")
		}
		sv := SlotValue{Value: v.SampleValue.Value}
		for j, s := range v.Synonyms {
			if strings.TrimSpace(s.Value) == "" {
				return nil, errAt(file, fmt.Sprintf("%s.synonyms[%d].value", f, j), "empty")
			}
			sv.Synonyms = append(sv.Synonyms, s.Value)
		}
		st.Values = append(st.Values, sv)
	}
	if vs := rs.ValueSelectionSetting; vs != nil {
		switch vs.ResolutionStrategy {
		case "ORIGINAL_VALUE", "":
			st.Strategy = OriginalValue
		case "TOP_RESOLUTION":
			st.Strategy = TopResolution
		default:
			return nil, errAt(file, "valueSelectionSetting.resolutionStrategy", "%q is neither ORIGINAL_VALUE nor TOP_RESOLUTION", vs.ResolutionStrategy)
		}
	}
	return st, nil
}

func loadIntent(r *reader, loc *Locale, dir, file string, slotFiles []string) (*Intent, error) {
	var ri rawIntent
	if err := r.decode(file, &ri); err != nil {
		return nil, err
	}
	if ri.Name != dir {
		return nil, errAt(file, "name", "%q does not match its directory %q", ri.Name, dir)
	}
	in := &Intent{Name: ri.Name}
	if ri.ParentIntentSignature != nil {
		in.ParentSignature = *ri.ParentIntentSignature
	}
	for i, u := range ri.SampleUtterances {
		if strings.TrimSpace(u.Utterance) == "" {
			return nil, errAt(file, fmt.Sprintf("sampleUtterances[%d].utterance", i), "empty")
		}
		in.Utterances = append(in.Utterances, u.Utterance)
	}
	var err error
	if cs := ri.IntentConfirmationSetting; cs != nil && (cs.Active == nil || *cs.Active) {
		if cs.PromptSpecification == nil {
			return nil, errAt(file, "intentConfirmationSetting.promptSpecification", "missing")
		}
		if in.Confirmation, err = convPrompt(file, "intentConfirmationSetting.promptSpecification", cs.PromptSpecification); err != nil {
			return nil, err
		}
		if cs.DeclinationResponse != nil {
			if in.Declination, err = convGroups(file, "intentConfirmationSetting.declinationResponse", cs.DeclinationResponse); err != nil {
				return nil, err
			}
		}
	}
	if cl := ri.IntentClosingSetting; cl != nil && cl.ClosingResponse != nil && (cl.Active == nil || *cl.Active) {
		if in.Closing, err = convGroups(file, "intentClosingSetting.closingResponse", cl.ClosingResponse); err != nil {
			return nil, err
		}
	}
	if is := ri.InitialResponseSetting; is != nil && is.InitialResponse != nil {
		if in.Initial, err = convGroups(file, "initialResponseSetting.initialResponse", is.InitialResponse); err != nil {
			return nil, err
		}
	}
	in.FulfillmentCodeHook = ri.FulfillmentCodeHook != nil && ri.FulfillmentCodeHook.Enabled
	in.DialogCodeHook = ri.DialogCodeHook != nil && ri.DialogCodeHook.Enabled

	slots := map[string]*Slot{}
	sort.Strings(slotFiles)
	for _, sf := range slotFiles {
		s, err := loadSlot(r, loc, sf)
		if err != nil {
			return nil, err
		}
		slots[s.Name] = s
	}
	// Order slots by priority; slots the priorities do not mention follow,
	// by name, so a hand-written export still loads deterministically.
	prio := ri.SlotPriorities
	sort.SliceStable(prio, func(i, j int) bool { return prio[i].Priority < prio[j].Priority })
	placed := map[string]bool{}
	for _, p := range prio {
		i := indexOfPriority(ri, p.SlotName)
		f := fmt.Sprintf("slotPriorities[%d].slotName", i)
		s, ok := slots[p.SlotName]
		switch {
		case !ok:
			return nil, errAt(file, f, "no slot named %q in this intent", p.SlotName)
		case placed[p.SlotName]:
			return nil, errAt(file, f, "slot %q is listed twice", p.SlotName)
		}
		placed[p.SlotName] = true
		in.Slots = append(in.Slots, s)
	}
	for _, name := range sortedKeys(slots) {
		if !placed[name] {
			in.Slots = append(in.Slots, slots[name])
		}
	}
	return in, nil
}

// indexOfPriority finds an entry's index in the file's own order, so the
// error points at the line the author wrote, not at the sorted position.
func indexOfPriority(ri rawIntent, name string) int {
	for i, p := range ri.SlotPriorities {
		if p.SlotName == name {
			return i
		}
	}
	return 0
}

func loadSlot(r *reader, loc *Locale, file string) (*Slot, error) {
	var rs rawSlot
	if err := r.decode(file, &rs); err != nil {
		return nil, err
	}
	dir := path.Base(path.Dir(file))
	if rs.Name != dir {
		return nil, errAt(file, "name", "%q does not match its directory %q", rs.Name, dir)
	}
	if rs.SlotTypeName == "" {
		return nil, errAt(file, "slotTypeName", "missing")
	}
	if _, ok := loc.SlotTypes[rs.SlotTypeName]; !ok && !IsBuiltinSlotType(rs.SlotTypeName) {
		return nil, errAt(file, "slotTypeName", "unknown slot type %q", rs.SlotTypeName)
	}
	s := &Slot{Name: rs.Name, Type: rs.SlotTypeName}
	ve := rs.ValueElicitationSetting
	if ve == nil {
		return nil, errAt(file, "valueElicitationSetting", "missing")
	}
	switch ve.SlotConstraint {
	case "Required":
		s.Required = true
	case "Optional":
	default:
		return nil, errAt(file, "valueElicitationSetting.slotConstraint", "%q is neither Required nor Optional", ve.SlotConstraint)
	}
	if ve.PromptSpecification != nil {
		p, err := convPrompt(file, "valueElicitationSetting.promptSpecification", ve.PromptSpecification)
		if err != nil {
			return nil, err
		}
		s.Prompt = p
	} else if s.Required {
		// The runtime could not ask for a required slot without one.
		return nil, errAt(file, "valueElicitationSetting.promptSpecification", "a required slot needs a prompt")
	}
	return s, nil
}

func convPrompt(file, field string, p *rawPromptSpec) (*Prompt, error) {
	g, err := convGroups(file, field, &p.rawGroups)
	if err != nil {
		return nil, err
	}
	if g == nil {
		return nil, errAt(file, field+".messageGroupsList", "a prompt needs at least one message group")
	}
	if p.MaxRetries == nil {
		return nil, errAt(file, field+".maxRetries", "missing")
	}
	if *p.MaxRetries < 0 || *p.MaxRetries > 5 {
		return nil, errAt(file, field+".maxRetries", "%d is outside 0..5", *p.MaxRetries)
	}
	return &Prompt{MessageGroups: *g, MaxRetries: *p.MaxRetries}, nil
}

// convGroups returns nil when no group is given: "no response" is a valid
// configuration, distinct from a malformed one.
func convGroups(file, field string, rg *rawGroups) (*MessageGroups, error) {
	var list []rawGroup
	name := ""
	for _, c := range []struct {
		name string
		v    []rawGroup
	}{{"messageGroupsList", rg.MessageGroupsList}, {"messageGroups", rg.MessageGroups}, {"messageGroupList", rg.MessageGroupList}} {
		if c.v == nil {
			continue
		}
		if name != "" {
			return nil, errAt(file, field, "both %s and %s are present", name, c.name)
		}
		list, name = c.v, c.name
	}
	if len(list) == 0 {
		return nil, nil
	}
	out := &MessageGroups{}
	for i, g := range list {
		f := fmt.Sprintf("%s.%s[%d]", field, name, i)
		if g.Message == nil {
			return nil, errAt(file, f+".message", "missing")
		}
		m, err := convMessage(file, f+".message", g.Message)
		if err != nil {
			return nil, err
		}
		mg := MessageGroup{Message: m}
		for j := range g.Variations {
			v, err := convMessage(file, fmt.Sprintf("%s.variations[%d]", f, j), &g.Variations[j])
			if err != nil {
				return nil, err
			}
			mg.Variations = append(mg.Variations, v)
		}
		out.Groups = append(out.Groups, mg)
	}
	return out, nil
}

func convMessage(file, field string, rm *rawMessage) (Message, error) {
	var m Message
	set := 0
	if rm.PlainTextMessage != nil {
		set++
		m = Message{Kind: PlainText, Text: rm.PlainTextMessage.Value}
	}
	if rm.CustomPayload != nil {
		set++
		m = Message{Kind: CustomPayload, Text: rm.CustomPayload.Value}
	}
	if rm.SSMLMessage != nil {
		set++
		m = Message{Kind: SSML, Text: rm.SSMLMessage.Value}
	}
	if c := rm.ImageResponseCard; c != nil {
		set++
		if c.Title == "" {
			return Message{}, errAt(file, field+".imageResponseCard.title", "missing")
		}
		// Lex allows at most five buttons on a card.
		if len(c.Buttons) > 5 {
			return Message{}, errAt(file, field+".imageResponseCard.buttons", "%d buttons, at most 5 allowed", len(c.Buttons))
		}
		card := &Card{Title: c.Title, Subtitle: c.Subtitle, ImageURL: c.ImageURL}
		for i, b := range c.Buttons {
			if b.Text == "" || b.Value == "" {
				return Message{}, errAt(file, fmt.Sprintf("%s.imageResponseCard.buttons[%d]", field, i), "a button needs text and value")
			}
			card.Buttons = append(card.Buttons, Button{Text: b.Text, Value: b.Value})
		}
		m = Message{Kind: ImageResponseCard, Card: card}
	}
	switch {
	case set == 0:
		return Message{}, errAt(file, field, "no plainTextMessage, customPayload, ssmlMessage or imageResponseCard")
	case set > 1:
		return Message{}, errAt(file, field, "more than one kind of message")
	case m.Kind != ImageResponseCard && strings.TrimSpace(m.Text) == "":
		return Message{}, errAt(file, field, "empty %s message", m.Kind)
	}
	return m, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
