// Package nlu is the intent matcher and slot filler of the local Lex runtime.
// It turns a bot's sample utterances and slot types into a Model that scores
// a user's text against every intent, the way Lex's nluConfidence does, and
// fills slots from it. It is pure computation: no I/O, no globals that
// change, and a Model is safe for concurrent use.
package nlu

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// FallbackIntent is Lex's built-in intent for text no intent matches.
const FallbackIntent = "FallbackIntent"

// DefaultThreshold is Lex's default nluConfidenceThreshold.
const DefaultThreshold = 0.4

// maxInterpretations mirrors Lex, which returns at most five.
const maxInterpretations = 5

// Intent is one intent of a bot locale. Utterances may hold {SlotName}
// placeholders naming entries of Slots.
type Intent struct {
	Name       string
	Utterances []string
	Slots      []Slot
}

// Slot declares a slot of an intent and its type: a SlotType's name or one
// of the AMAZON.* built-ins.
type Slot struct {
	Name string
	Type string
}

// Resolution is a slot type's valueSelectionStrategy.
type Resolution int

const (
	// OriginalValue returns what the user typed, and accepts values
	// outside the list, as Lex's ORIGINAL_VALUE does.
	OriginalValue Resolution = iota
	// TopResolution returns the canonical value of the best match and
	// accepts only listed values and their synonyms.
	TopResolution
)

// SlotType is a custom slot type.
type SlotType struct {
	Name       string
	Values     []Value
	Resolution Resolution
}

// Value is one value of a custom slot type.
type Value struct {
	Value    string
	Synonyms []string
}

// Options tunes Compile.
type Options struct {
	// Threshold is the nluConfidenceThreshold; zero means DefaultThreshold.
	Threshold float64
	// Language is the locale's language ("en", "es", or a Lex locale id
	// such as "es_US"); it picks stemming, stop words and synonyms.
	Language string
	// Now gives the reference date for relative dates; nil means
	// time.Now. Only its calendar date is used.
	Now func() time.Time

	// noLexicon turns the synonym lexicon off, so tests can report what
	// it contributes.
	noLexicon bool
}

// SlotMatch is a filled slot.
type SlotMatch struct {
	Original    string   // what the user typed
	Interpreted string   // canonical value under TopResolution and for built-ins, else Original
	Resolved    []string // canonical values the input resolved to
}

// Interpretation is one intent's reading of the text.
type Interpretation struct {
	Intent string
	// Score is the nluConfidence, rounded to two decimals like Lex. The
	// FallbackIntent interpretation has no score (see HasScore).
	Score float64
	// Slots holds the slots found in the text; unfilled slots are absent.
	Slots map[string]SlotMatch
}

// HasScore reports whether the interpretation carries an nluConfidence.
// Lex omits it for FallbackIntent, and the wire layer must too.
func (i Interpretation) HasScore() bool { return i.Intent != FallbackIntent }

// Result is the outcome of Match.
type Result struct {
	// Interpretations is sorted by score, best first. FallbackIntent is
	// always present, placed where the threshold falls.
	Interpretations []Interpretation
	// Best is the chosen intent: the top scorer, or FallbackIntent when
	// nothing reaches the threshold.
	Best string
}

// Model is a compiled bot locale.
type Model struct {
	lang      string
	threshold float64
	now       func() time.Time
	lexicon   bool

	intents   []*cIntent
	byName    map[string]*cIntent
	slotTypes map[string]*cSlotType

	wordIdx, charIdx vocab
	utts             []*cUtt
	// assoc[term][intent] is how much a word belongs to each intent: its
	// share of the word's per-intent document frequency, so a word every
	// intent uses says little and one only TalkToHuman uses says a lot.
	assoc [][]float64

	// scratch recycles Match's per-utterance and per-intent sums, which
	// would otherwise be most of what a match allocates.
	scratch sync.Pool
}

type scratch struct {
	dotW, dotC        []float64 // per utterance
	centW, centC, cov []float64 // per intent
}

type cIntent struct {
	idx   int
	name  string
	slots []Slot
	// slotType maps each slot's name to its type.
	slotType map[string]string
	utts     []*cUtt
	// centroid of the intent's utterance vectors, so an intent is also
	// judged by its vocabulary as a whole, not only its nearest sample.
	centW, centC sparse
}

type cUtt struct {
	intent *cIntent
	idx    int // position in Model.utts, which posting lists refer to
	tmpl   []tmplTok
	w, c   sparse // unit vectors
}

// tmplTok is a word of an utterance template, or a {Slot} placeholder.
type tmplTok struct {
	word, term string
	slot       string
}

// vocab numbers features and remembers their inverse document frequency.
type vocab struct {
	ids   map[string]int32
	terms []string
	// byFirst holds terms by their first byte, in terms' order, for typo
	// correction, which only looks at terms starting like the typed word.
	byFirst [256][]string
	idf     []float64
	maxIDF  float64
	post    [][]posting
	// centPost[feature] lists the intents whose centroid has the feature,
	// so a query meets every centroid in one pass, as it meets every
	// utterance through post.
	centPost [][]posting
}

type posting struct {
	utt int32 // an utterance in post, an intent in centPost
	w   float64
}

type feat struct {
	id int32 // -1 for a feature unseen in training
	w  float64
}

type sparse []feat

// Compile builds a Model. It fails on what Lex would refuse at build time:
// unnamed or duplicate intents, slots of unknown types, and placeholders
// naming undeclared slots.
func Compile(intents []Intent, slotTypes []SlotType, opts Options) (*Model, error) {
	lang := strings.ToLower(opts.Language)
	if i := strings.IndexAny(lang, "_-"); i >= 0 {
		lang = lang[:i]
	}
	if lang != "es" {
		lang = "en"
	}
	m := &Model{
		lang:      lang,
		threshold: opts.Threshold,
		now:       opts.Now,
		lexicon:   !opts.noLexicon,
		byName:    map[string]*cIntent{},
		slotTypes: map[string]*cSlotType{},
	}
	if m.threshold <= 0 {
		m.threshold = DefaultThreshold
	}
	if m.threshold > 1 {
		return nil, fmt.Errorf("nlu: threshold %v is above 1", opts.Threshold)
	}
	if m.now == nil {
		m.now = time.Now
	}
	for _, st := range slotTypes {
		if st.Name == "" {
			return nil, errors.New("nlu: slot type without a name")
		}
		if _, dup := m.slotTypes[st.Name]; dup {
			return nil, fmt.Errorf("nlu: slot type %q declared twice", st.Name)
		}
		m.slotTypes[st.Name] = compileSlotType(st, lang)
	}

	// Terms of every utterance first, so IDF is known before vectors.
	type raw struct {
		u     *cUtt
		terms []string
	}
	var raws []raw
	for _, in := range intents {
		if in.Name == "" {
			return nil, errors.New("nlu: intent without a name")
		}
		if in.Name == FallbackIntent {
			continue // built in; its sample utterances are never matched
		}
		if _, dup := m.byName[in.Name]; dup {
			return nil, fmt.Errorf("nlu: intent %q declared twice", in.Name)
		}
		ci := &cIntent{idx: len(m.intents), name: in.Name, slots: in.Slots}
		declared := map[string]bool{}
		for _, s := range in.Slots {
			if !isBuiltin(s.Type) && m.slotTypes[s.Type] == nil {
				return nil, fmt.Errorf("nlu: intent %q slot %q: unknown slot type %q", in.Name, s.Name, s.Type)
			}
			declared[s.Name] = true
		}
		for _, text := range in.Utterances {
			tmpl, err := m.parseTemplate(text)
			if err != nil {
				return nil, fmt.Errorf("nlu: intent %q utterance %q: %w", in.Name, text, err)
			}
			var terms []string
			for _, t := range tmpl {
				if t.slot != "" {
					if !declared[t.slot] {
						return nil, fmt.Errorf("nlu: intent %q utterance %q: undeclared slot {%s}", in.Name, text, t.slot)
					}
					terms = append(terms, slotTerm(t.slot))
					continue
				}
				if t.term != "" {
					terms = append(terms, t.term)
				}
			}
			if len(tmpl) == 0 {
				continue
			}
			u := &cUtt{intent: ci, tmpl: tmpl}
			ci.utts = append(ci.utts, u)
			raws = append(raws, raw{u, terms})
		}
		m.intents = append(m.intents, ci)
		m.byName[in.Name] = ci
	}

	m.wordIdx = vocab{ids: map[string]int32{}}
	m.charIdx = vocab{ids: map[string]int32{}}
	docs := make([][]string, len(raws))
	cdocs := make([][]string, len(raws))
	for i, r := range raws {
		docs[i] = r.terms
		for _, t := range r.terms {
			if !isSlotTerm(t) {
				cdocs[i] = appendGrams(cdocs[i], t)
			}
		}
	}
	group := make([]int, len(raws))
	for i, r := range raws {
		group[i] = r.u.intent.idx
	}
	m.wordIdx.build(docs, group)
	m.charIdx.build(cdocs, group)
	for i, r := range raws {
		r.u.idx = i
		r.u.w = m.wordIdx.vector(docs[i], true)
		r.u.c = m.charIdx.vector(cdocs[i], true)
		m.wordIdx.index(int32(i), r.u.w)
		m.charIdx.index(int32(i), r.u.c)
		m.utts = append(m.utts, r.u)
	}
	m.assoc = make([][]float64, len(m.wordIdx.idf))
	for i := range m.assoc {
		m.assoc[i] = make([]float64, len(m.intents))
	}
	for _, r := range raws {
		seen := map[int32]bool{}
		for _, f := range r.u.w {
			if !seen[f.id] {
				seen[f.id] = true
				m.assoc[f.id][r.u.intent.idx] += 1 / float64(len(r.u.intent.utts))
			}
		}
	}
	for _, row := range m.assoc {
		var sum float64
		for _, v := range row {
			sum += v
		}
		for j := range row {
			row[j] /= sum
		}
	}
	for _, ci := range m.intents {
		ci.centW = centroid(ci.utts, func(u *cUtt) sparse { return u.w })
		ci.centC = centroid(ci.utts, func(u *cUtt) sparse { return u.c })
		for _, f := range ci.centW {
			m.wordIdx.centPost[f.id] = append(m.wordIdx.centPost[f.id], posting{int32(ci.idx), f.w})
		}
		for _, f := range ci.centC {
			m.charIdx.centPost[f.id] = append(m.charIdx.centPost[f.id], posting{int32(ci.idx), f.w})
		}
	}
	m.scratch.New = func() any {
		nu, ni := len(m.utts), len(m.intents)
		return &scratch{
			dotW: make([]float64, nu), dotC: make([]float64, nu),
			centW: make([]float64, ni), centC: make([]float64, ni), cov: make([]float64, ni),
		}
	}
	for _, ci := range m.intents {
		ci.slotType = make(map[string]string, len(ci.slots))
		for _, s := range ci.slots {
			ci.slotType[s.Name] = s.Type
		}
	}
	return m, nil
}

// slotTerm is the feature a {Slot} placeholder contributes to its
// utterance. A filled slot adds the same feature to the text, so a value in
// the text's span counts like the placeholder it fills rather than as an
// unknown word: "could I get crimson lilies" is close to "can I get
// {Colour} {FlowerType}" although none of its words is.
func slotTerm(name string) string { return "{" + name + "}" }

func isSlotTerm(t string) bool { return strings.HasPrefix(t, "{") }

func isBuiltin(t string) bool {
	switch t {
	case TypeNumber, TypeDate, TypeTime, TypeAlphaNumeric, TypeFreeForm, TypeCity:
		return true
	}
	return false
}

// parseTemplate splits "where is {OrderNumber} now" into words and slots.
func (m *Model) parseTemplate(text string) ([]tmplTok, error) {
	var out []tmplTok
	for text != "" {
		open := strings.IndexByte(text, '{')
		lit := text
		if open >= 0 {
			lit = text[:open]
		}
		for _, t := range tokenize(lit) {
			out = append(out, tmplTok{word: t.norm, term: m.term(t.norm)})
		}
		if open < 0 {
			break
		}
		end := strings.IndexByte(text[open:], '}')
		if end < 0 {
			return nil, errors.New("unclosed {")
		}
		name := strings.TrimSpace(text[open+1 : open+end])
		if name == "" {
			return nil, errors.New("empty {} placeholder")
		}
		out = append(out, tmplTok{slot: name})
		text = text[open+end+1:]
	}
	return out, nil
}

func (m *Model) term(w string) string {
	// Digits never say what the user wants, only which order or how many;
	// leaving them out keeps "order 12345" as close to the template
	// "order {OrderNumber}" as "order" alone.
	if strings.ContainsAny(w, "0123456789") {
		return ""
	}
	return term(w, m.lang, m.lexicon)
}

// appendGrams adds the character trigrams of a term, with word boundaries,
// so that typos and unseen inflections still share most of their features.
func appendGrams(dst []string, t string) []string {
	s := "#" + t + "#"
	if len(s) <= 3 {
		return append(dst, s)
	}
	for i := 0; i+3 <= len(s); i++ {
		dst = append(dst, s[i:i+3])
	}
	return dst
}

// build numbers the features of docs. group[i] is the intent of docs[i]:
// document frequency counts intents, not utterances, so that a word an
// intent repeats in all its samples ("ship" for Shipping) is not discounted
// for being that intent's keyword.
func (v *vocab) build(docs [][]string, group []int) {
	df := map[string]int{}
	seenIn := map[string]int{}
	ngroups := 0
	for i, d := range docs {
		g := group[i]
		ngroups = max(ngroups, g+1)
		for _, t := range d {
			if last, ok := seenIn[t]; !ok || last != g+1 {
				seenIn[t] = g + 1
				df[t]++
			}
		}
	}
	keys := make([]string, 0, len(df))
	for k := range df {
		keys = append(keys, k)
	}
	sort.Strings(keys) // deterministic ids
	n := float64(ngroups)
	v.maxIDF = math.Log(1 + n)
	for _, k := range keys {
		v.ids[k] = int32(len(v.idf))
		v.terms = append(v.terms, k)
		v.byFirst[k[0]] = append(v.byFirst[k[0]], k)
		v.idf = append(v.idf, math.Log(1+n/float64(df[k])))
	}
	v.post = make([][]posting, len(v.idf))
	v.centPost = make([][]posting, len(v.idf))
}

// vector weights terms by tf-idf. Unseen terms keep the highest IDF: a
// word no sample uses is strong evidence the text is about something else,
// and it must weigh on the query's norm for out-of-domain text to score low.
func (v *vocab) vector(terms []string, unit bool) sparse {
	s := v.appendVector(nil, terms)
	if unit {
		s.normalize()
	}
	return s
}

// appendVector appends the unnormalised vector of terms to dst[:0], so a
// caller can reuse one buffer for many vectors.
func (v *vocab) appendVector(dst sparse, terms []string) sparse {
	s := dst[:0]
outer:
	for _, t := range terms {
		id, ok := v.ids[t]
		if !ok {
			s = append(s, feat{-1, oovWeight * v.maxIDF})
			continue
		}
		for i := range s {
			if s[i].id == id {
				s[i].w += v.idf[id]
				continue outer
			}
		}
		s = append(s, feat{id, v.idf[id]})
	}
	return s
}

func (s sparse) norm() float64 {
	var n float64
	for _, f := range s {
		n += f.w * f.w
	}
	return math.Sqrt(n)
}

func (s sparse) normalize() {
	if n := s.norm(); n > 0 {
		for i := range s {
			s[i].w /= n
		}
	}
}

func (s sparse) dot(o sparse) float64 {
	var d float64
	for _, a := range s {
		if a.id < 0 {
			continue
		}
		for _, b := range o {
			if a.id == b.id {
				d += a.w * b.w
				break
			}
		}
	}
	return d
}

func (v *vocab) index(utt int32, s sparse) {
	for _, f := range s {
		v.post[f.id] = append(v.post[f.id], posting{utt, f.w})
	}
}

func centroid(utts []*cUtt, pick func(*cUtt) sparse) sparse {
	acc := map[int32]float64{}
	for _, u := range utts {
		for _, f := range pick(u) {
			acc[f.id] += f.w
		}
	}
	s := make(sparse, 0, len(acc))
	for id, w := range acc {
		s = append(s, feat{id, w})
	}
	sort.Slice(s, func(i, j int) bool { return s[i].id < s[j].id })
	s.normalize()
	return s
}

// Weights of the score's parts, fixed a priori rather than fitted: whole
// words carry the meaning, trigrams rescue typos and unseen inflections, and
// the centroid keeps one lucky sample from outvoting an intent's vocabulary.
const (
	wordWeight     = 0.7
	charWeight     = 0.3
	nearestWeight  = 0.75
	centroidWeight = 0.25
)

// similarityWeight blends the cosine similarity to the samples with the
// coverage of the text by the intent's vocabulary. Cosine rewards texts
// shaped like a sample; coverage rewards a text whose telling words belong
// to one intent even when the rest of it is unlike any sample.
//
// oovWeight scales the weight of a word no sample uses, relative to the
// rarest known word. Lower values forgive paraphrases their unseen words but
// let "what time is it in Tokyo" through on "time"; at 1 an unknown word
// counts as much as a keyword, which keeps out-of-domain text below the
// threshold.
//
// Both were chosen with TestDevGrid (leave-one-out over the training
// utterances plus a development out-of-domain list), never on the held-out
// set; they are variables only so that grid can vary them.
var (
	similarityWeight = 0.75
	oovWeight        = 1.0
)

// query is the text prepared once per Match.
type query struct {
	text  string
	toks  []token
	terms []string // per token; "" for stop words and digits
	w, c  sparse   // not normalised
	// contribution of each token to the norms, so a slot value can be
	// taken out of the query for the intents that own the slot.
	tokW, tokW2, tokC2 []float64
	normW2             float64
	normC2             float64
}

func (m *Model) prepare(text string) *query {
	q := &query{text: text, toks: tokenize(text)}
	q.terms = make([]string, len(q.toks))
	q.tokW = make([]float64, len(q.toks))
	q.tokW2 = make([]float64, len(q.toks))
	q.tokC2 = make([]float64, len(q.toks))
	var grams []string
	var gv sparse
	terms := make([]string, 0, len(q.toks))
	for i, t := range q.toks {
		term := m.term(t.norm)
		if term == "" {
			continue
		}
		if _, known := m.wordIdx.ids[term]; !known {
			term = m.wordIdx.correct(term, t.norm)
		}
		q.terms[i] = term
		terms = append(terms, term)
		// The weight a one-term vector would give the term.
		w := oovWeight * m.wordIdx.maxIDF
		if id, ok := m.wordIdx.ids[term]; ok {
			w = m.wordIdx.idf[id]
		}
		q.tokW[i] = w
		q.tokW2[i] = w * w
		grams = appendGrams(grams[:0], term)
		gv = m.charIdx.appendVector(gv, grams)
		for _, f := range gv {
			q.tokC2[i] += f.w * f.w
		}
	}
	allGrams := grams[:0]
	for _, t := range terms {
		allGrams = appendGrams(allGrams, t)
	}
	q.w = m.wordIdx.vector(terms, false)
	q.c = m.charIdx.vector(allGrams, false)
	q.normW2 = q.w.norm() * q.w.norm()
	q.normC2 = q.c.norm() * q.c.norm()
	return q
}

// nearest maps a word no sample uses onto a known one within typo distance
// ("shiping" -> "ship"), so a slip of the finger does not read as a word
// from another domain.
func (v *vocab) nearest(t string) string {
	budget := typoBudget(len(t))
	if budget == 0 {
		return t
	}
	best, bestD := t, budget+1
	// Typos rarely hit the first letter, and demanding it keeps real words
	// apart ("water" is not a typo of "later").
	for _, k := range v.byFirst[t[0]] {
		if d := editDistance(t, k, budget); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

// correct maps an unknown term onto a known one, trying its stem first and
// then the word as typed. The stem alone misses typos of lexicon words,
// whose indexed form is the unstemmed canonical word: "pedio" stems to
// "pedi", two edits from "pedido", though the typed word is one.
func (v *vocab) correct(term, typed string) string {
	if t := v.nearest(term); t != term {
		return t
	}
	if t := v.nearest(typed); t != typed {
		return t
	}
	return term
}

// Match scores text against every intent.
func (m *Model) Match(text string) Result {
	q := m.prepare(text)
	sc := m.scratch.Get().(*scratch)
	defer m.scratch.Put(sc)
	dotW := accumulate(sc.dotW, m.wordIdx.post, q.w)
	dotC := accumulate(sc.dotC, m.charIdx.post, q.c)
	centW := accumulate(sc.centW, m.wordIdx.centPost, q.w)
	centC := accumulate(sc.centC, m.charIdx.centPost, q.c)

	// coverage: how much of the text's weight each intent explains.
	cov := sc.cov
	clear(cov)
	var covDen float64
	for _, f := range q.w {
		covDen += f.w
		if f.id < 0 {
			continue
		}
		for j, a := range m.assoc[f.id] {
			cov[j] += f.w * a
		}
	}

	today := m.today()
	scored := make([]Interpretation, 0, len(m.intents))
	var filled sparse
	for _, ci := range m.intents {
		slots, consumed, exact := m.fillSlots(ci, q, today)
		nW2, nC2, den, c := q.normW2, q.normC2, covDen, cov[ci.idx]
		for i, used := range consumed {
			if used {
				nW2 -= q.tokW2[i]
				nC2 -= q.tokC2[i]
				den -= q.tokW[i]
			}
		}
		// The filled slots' placeholder features replace the values' words.
		filled = filled[:0]
		for name := range slots {
			if id, ok := m.wordIdx.ids[slotTerm(name)]; ok {
				w := m.wordIdx.idf[id]
				filled = append(filled, feat{id, w})
				nW2 += w * w
				den += w
				c += w * m.assoc[id][ci.idx]
			}
		}
		var score float64
		if exact {
			score = 1
		} else if nW2 > 1e-12 {
			nW, nC := math.Sqrt(nW2), math.Sqrt(math.Max(nC2, 1e-12))
			best := 0.0
			for _, u := range ci.utts {
				s := wordWeight*(dotW[u.idx]+filled.dot(u.w))/nW + charWeight*dotC[u.idx]/nC
				if s > best {
					best = s
				}
			}
			cent := wordWeight*(centW[ci.idx]+filled.dot(ci.centW))/nW + charWeight*centC[ci.idx]/nC
			similar := nearestWeight*best + centroidWeight*cent
			score = similarityWeight*similar + (1-similarityWeight)*c/math.Max(den, 1e-9)
		}
		score = math.Round(math.Min(1, math.Max(0, score))*100) / 100
		if score > 0 || len(slots) > 0 {
			scored = append(scored, Interpretation{Intent: ci.name, Score: score, Slots: slots})
		}
	}
	slices.SortStableFunc(scored, func(a, b Interpretation) int { return cmp.Compare(b.Score, a.Score) })
	if len(scored) > maxInterpretations-1 {
		scored = scored[:maxInterpretations-1]
	}
	res := Result{Best: FallbackIntent, Interpretations: make([]Interpretation, 0, len(scored)+1)}
	if len(scored) > 0 && scored[0].Score >= m.threshold {
		res.Best = scored[0].Intent
	}
	fb := Interpretation{Intent: FallbackIntent}
	placed := false
	for _, in := range scored {
		if !placed && in.Score < m.threshold {
			res.Interpretations = append(res.Interpretations, fb)
			placed = true
		}
		res.Interpretations = append(res.Interpretations, in)
	}
	if !placed {
		res.Interpretations = append(res.Interpretations, fb)
	}
	return res
}

func (m *Model) today() time.Time {
	y, mo, d := m.now().Date()
	return time.Date(y, mo, d, 0, 0, 0, 0, time.UTC)
}

// accumulate computes into dots the dot product of q with each vector
// indexed by post, touching only the vectors that share a feature. Each
// product sums in the order of q's features, as sparse.dot does, so both
// give the same bits.
func accumulate(dots []float64, post [][]posting, q sparse) []float64 {
	clear(dots)
	for _, f := range q {
		if f.id < 0 {
			continue
		}
		for _, p := range post[f.id] {
			dots[p.utt] += f.w * p.w
		}
	}
	return dots
}
