package nlu

import (
	"strings"
	"time"
)

type cSlotType struct {
	res     Resolution
	entries []entry
}

// entry is one spelling of a value: the value itself or a synonym.
type entry struct {
	words []string // folded
	stems []string
	canon string
}

func compileSlotType(st SlotType, lang string) *cSlotType {
	c := &cSlotType{res: st.Resolution}
	add := func(text, canon string) {
		var e entry
		for _, t := range tokenize(text) {
			e.words = append(e.words, t.norm)
			e.stems = append(e.stems, stem(t.norm, lang))
		}
		if len(e.words) > 0 {
			e.canon = canon
			c.entries = append(c.entries, e)
		}
	}
	for _, v := range st.Values {
		add(v.Value, v.Value)
		for _, s := range v.Synonyms {
			add(s, v.Value)
		}
	}
	return c
}

// typoBudget bounds the edit distance tolerated for a word: none for short
// words, where one edit makes another word ("cat"/"car"), more for long ones.
func typoBudget(n int) int {
	switch {
	case n >= 9:
		return 2
	case n >= 5:
		return 1
	}
	return 0
}

// editDistance is the optimal-string-alignment distance (Levenshtein plus
// adjacent transpositions, the commonest typing slip), giving up once it
// exceeds max.
func editDistance(a, b string, max int) int {
	if d := len(a) - len(b); d > max || -d > max {
		return max + 1
	}
	// Three rows; words are short, so they usually fit on the stack.
	var buf [3 * 32]int
	var rows []int
	if n := len(b) + 1; 3*n <= len(buf) {
		rows = buf[:3*n]
	} else {
		rows = make([]int, 3*n)
	}
	n := len(b) + 1
	prev2, prev, cur := rows[:n:n], rows[n:2*n:2*n], rows[2*n:]
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			cur[j] = v
			rowMin = min(rowMin, v)
		}
		if rowMin > max {
			return max + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

// customAt finds the best listed value in toks[lo:hi]: the longest phrase,
// and among equals the one with fewer typos.
func (c *cSlotType) find(toks []token, lo, hi int, lang string) (canon string, i, j int, ok bool) {
	bestLen, bestTypos := 0, 0
	// Stems of the span's words, each computed once, when first needed,
	// rather than once per listed value.
	stems := make([]string, hi-lo)
	stemmed := make([]bool, hi-lo)
	stemAt := func(x int) string {
		if !stemmed[x-lo] {
			stems[x-lo], stemmed[x-lo] = stem(toks[x].norm, lang), true
		}
		return stems[x-lo]
	}
	for s := lo; s < hi; s++ {
		for _, e := range c.entries {
			n := len(e.words)
			if s+n > hi || n < bestLen {
				continue
			}
			typos := 0
			match := true
			for k := 0; k < n; k++ {
				w := toks[s+k].norm
				if w == e.words[k] || stemAt(s+k) == e.stems[k] {
					continue
				}
				budget := typoBudget(len(e.words[k]))
				if budget == 0 || editDistance(w, e.words[k], budget) > budget {
					match = false
					break
				}
				typos++
			}
			if !match {
				continue
			}
			if n > bestLen || typos < bestTypos {
				bestLen, bestTypos = n, typos
				canon, i, j, ok = e.canon, s, s+n, true
			}
		}
	}
	return
}

func original(text string, toks []token, i, j int) string {
	return text[toks[i].start:toks[j-1].end]
}

// extract reads a value of type typ from toks[lo:hi]. loose is set when the
// span is known to be the slot's (an elicitation reply, or a span aligned
// with a {Slot} of a template): free text, unlisted ORIGINAL_VALUE values,
// bare words as identifiers and bare hours are then accepted. Without it
// only unmistakable values count, since the span is the whole sentence.
// It returns the token range the value came from.
func (m *Model) extract(typ, text string, toks []token, lo, hi int, loose bool, today time.Time) (SlotMatch, int, int, bool) {
	if lo >= hi {
		return SlotMatch{}, 0, 0, false
	}
	sub := toks[lo:hi]
	builtin := func(s span, ok bool) (SlotMatch, int, int, bool) {
		if !ok {
			return SlotMatch{}, 0, 0, false
		}
		return SlotMatch{Original: original(text, sub, s.i, s.j), Interpreted: s.value, Resolved: []string{s.value}}, lo + s.i, lo + s.j, true
	}
	switch typ {
	case TypeNumber:
		return builtin(findNumber(sub))
	case TypeDate:
		return builtin(findDate(text, sub, today, m.lang))
	case TypeTime:
		if s, ok := findTime(text, sub); ok {
			return builtin(s, true)
		}
		if loose {
			// "3" in answer to "what time?" is an hour
			if n, j, ok := numberAt(sub, 0); ok && j == len(sub) && n <= 23 {
				return builtin(span{hhmm(n, 0), 0, j}, true)
			}
		}
		return SlotMatch{}, 0, 0, false
	case TypeAlphaNumeric:
		from, to := sub[0].start, sub[len(sub)-1].end
		if w, s, e, ok := findAlphaNumeric(text[from:to]); ok && (loose || len(w) >= 3) {
			s, e = s+from, e+from
			i, j := lo, hi
			for k := lo; k < hi; k++ {
				if toks[k].end <= s {
					i = k + 1
				}
				if toks[k].start < e {
					j = k + 1
				}
			}
			return SlotMatch{Original: w, Interpreted: w, Resolved: []string{w}}, i, j, true
		}
		if loose && len(sub) == 1 {
			w := original(text, sub, 0, 1)
			return SlotMatch{Original: w, Interpreted: w, Resolved: []string{w}}, lo, hi, true
		}
		return SlotMatch{}, 0, 0, false
	case TypeFreeForm, TypeCity:
		if !loose {
			return SlotMatch{}, 0, 0, false
		}
		// "in New York please": the courtesy words around a free-text
		// value are not part of it.
		i, j := 0, len(sub)
		for i < j && isStop(sub[i].norm, m.lang) {
			i++
		}
		for j > i && isStop(sub[j-1].norm, m.lang) {
			j--
		}
		if i == j {
			return SlotMatch{}, 0, 0, false
		}
		w := original(text, sub, i, j)
		return SlotMatch{Original: w, Interpreted: w, Resolved: []string{w}}, lo + i, lo + j, true
	}
	st := m.slotTypes[typ]
	if st == nil {
		return SlotMatch{}, 0, 0, false
	}
	if canon, i, j, ok := st.find(toks, lo, hi, m.lang); ok {
		orig := original(text, toks, i, j)
		sm := SlotMatch{Original: orig, Interpreted: orig, Resolved: []string{canon}}
		if st.res == TopResolution {
			sm.Interpreted = canon
		}
		return sm, i, j, true
	}
	if loose && st.res == OriginalValue {
		orig := original(text, toks, lo, hi)
		return SlotMatch{Original: orig, Interpreted: orig, Resolved: []string{}}, lo, hi, true
	}
	return SlotMatch{}, 0, 0, false
}

// ExtractSlot reads a slot's value from an elicitation reply, where the
// whole reply is the candidate ("A1B2C3", "it's A1B2C3", "tomorrow").
func (m *Model) ExtractSlot(intent, slot, text string) (SlotMatch, bool) {
	ci := m.byName[intent]
	if ci == nil {
		return SlotMatch{}, false
	}
	for _, s := range ci.slots {
		if s.Name != slot {
			continue
		}
		toks := tokenize(text)
		if len(toks) == 0 {
			return SlotMatch{}, false
		}
		if s.Type == TypeFreeForm || s.Type == TypeCity {
			t := strings.TrimSpace(text)
			return SlotMatch{Original: t, Interpreted: t, Resolved: []string{t}}, true
		}
		sm, _, _, ok := m.extract(s.Type, text, toks, 0, len(toks), true, m.today())
		return sm, ok
	}
	return SlotMatch{}, false
}

// maxAlignTokens bounds the backtracking of full-template alignment; longer
// texts are not anyone's sample utterance anyway.
const maxAlignTokens = 40

func (m *Model) wordEq(t tmplTok, q *query, i int) bool {
	return t.word == q.toks[i].norm || t.term != "" && t.term == q.terms[i]
}

// fillSlots finds the intent's slots in the text and reports which tokens
// they used and whether the text is one of the intent's templates exactly.
func (m *Model) fillSlots(ci *cIntent, q *query, today time.Time) (map[string]SlotMatch, []bool, bool) {
	if len(ci.slots) == 0 {
		for _, u := range ci.utts {
			if len(u.tmpl) != len(q.toks) {
				continue
			}
			same := true
			for k, t := range u.tmpl {
				if t.word != q.toks[k].norm {
					same = false
					break
				}
			}
			if same {
				return nil, nil, true
			}
		}
		return nil, nil, false
	}
	types := ci.slotType
	consumed := make([]bool, len(q.toks))
	var slots map[string]SlotMatch
	put := func(name string, sm SlotMatch, i, j int) {
		if slots == nil {
			slots = map[string]SlotMatch{}
		}
		slots[name] = sm
		for k := i; k < j; k++ {
			consumed[k] = true
		}
	}

	// 1. The text is a template with its placeholders filled.
	if len(q.toks) <= maxAlignTokens {
		for _, u := range ci.utts {
			var spans [][3]int // tmpl index, start, end
			if !m.align(u.tmpl, q, 0, 0, &spans) {
				continue
			}
			ok := true
			type got struct {
				sm   SlotMatch
				i, j int
			}
			var found []got
			for _, sp := range spans {
				name := u.tmpl[sp[0]].slot
				sm, i, j, good := m.extract(types[name], q.text, q.toks, sp[1], sp[2], true, today)
				if !good {
					ok = false
					break
				}
				found = append(found, got{sm, i, j})
			}
			if !ok {
				continue
			}
			for k, sp := range spans {
				put(u.tmpl[sp[0]].slot, found[k].sm, found[k].i, found[k].j)
				for x := sp[1]; x < sp[2]; x++ {
					consumed[x] = true
				}
			}
			return slots, consumed, true
		}
	}

	// 2. A placeholder's neighbouring words anchor its span.
	for _, s := range ci.slots {
		bestAnchors := 0
		var best SlotMatch
		var bi, bj int
		for _, u := range ci.utts {
			for k, t := range u.tmpl {
				if t.slot != s.Name {
					continue
				}
				lo, hi, anchors := m.anchor(u.tmpl, k, q)
				if anchors <= bestAnchors || allStop(q.toks[lo:hi], m.lang) {
					continue
				}
				if sm, i, j, ok := m.extract(s.Type, q.text, q.toks, lo, hi, true, today); ok {
					best, bi, bj, bestAnchors = sm, i, j, anchors
				}
			}
		}
		if bestAnchors > 0 {
			put(s.Name, best, bi, bj)
		}
	}

	// 3. An unmistakable value of the slot's type anywhere in the text.
	for _, s := range ci.slots {
		if _, done := slots[s.Name]; done {
			continue
		}
		sm, i, j, ok := m.extract(s.Type, q.text, q.toks, 0, len(q.toks), false, today)
		if !ok {
			continue
		}
		taken := false
		for k := i; k < j; k++ {
			taken = taken || consumed[k]
		}
		if !taken {
			put(s.Name, sm, i, j)
		}
	}
	return slots, consumed, false
}

// align matches the whole text against a template, each placeholder taking
// one or more words, and records the placeholders' spans.
func (m *Model) align(tmpl []tmplTok, q *query, ti, qi int, spans *[][3]int) bool {
	if ti == len(tmpl) {
		return qi == len(q.toks)
	}
	t := tmpl[ti]
	if t.slot == "" {
		return qi < len(q.toks) && m.wordEq(t, q, qi) && m.align(tmpl, q, ti+1, qi+1, spans)
	}
	n := len(*spans)
	for end := qi + 1; end <= len(q.toks); end++ {
		*spans = append((*spans)[:n], [3]int{ti, qi, end})
		if m.align(tmpl, q, ti+1, end, spans) {
			return true
		}
	}
	*spans = (*spans)[:n]
	return false
}

// anchor finds the span of the placeholder at tmpl[k] from the words next
// to it: after the last occurrence of the word before it, up to the first
// occurrence of the word after it. anchors counts the words found. A stop
// word anchors only together with the template's nearest content word on
// the same side: "is" in "my order number is {OrderNumber}" occurs in any
// sentence and alone would read "slow" in "my computer is slow" as an order
// number, while "to" in "fly to {City}" still anchors "fly to Paris".
func (m *Model) anchor(tmpl []tmplTok, k int, q *query) (lo, hi, anchors int) {
	lo, hi = 0, len(q.toks)
	if k > 0 && tmpl[k-1].slot == "" {
		found := false
		for i := len(q.toks) - 1; i >= 0; i-- {
			if m.wordEq(tmpl[k-1], q, i) && m.backedBy(tmpl, k-1, -1, q, i) {
				lo, found = i+1, true
				break
			}
		}
		if !found {
			return 0, 0, 0
		}
		anchors++
	}
	if k+1 < len(tmpl) && tmpl[k+1].slot == "" {
		for i := lo; i < len(q.toks); i++ {
			if m.wordEq(tmpl[k+1], q, i) && m.backedBy(tmpl, k+1, 1, q, i) {
				hi = i
				anchors++
				break
			}
		}
	}
	if lo >= hi {
		return 0, 0, 0
	}
	return lo, hi, anchors
}

// backedBy reports whether the anchor tmpl[t], found at q.toks[i], is a
// content word, or else whether the template's nearest content word in
// direction dir (-1 before, +1 after) occurs in the text on that side too.
// A template with only stop words on that side keeps the stop word.
func (m *Model) backedBy(tmpl []tmplTok, t, dir int, q *query, i int) bool {
	if tmpl[t].term != "" {
		return true
	}
	for j := t + dir; j >= 0 && j < len(tmpl); j += dir {
		if tmpl[j].slot != "" {
			return true
		}
		if tmpl[j].term == "" {
			continue
		}
		for x := i + dir; x >= 0 && x < len(q.toks); x += dir {
			if m.wordEq(tmpl[j], q, x) {
				return true
			}
		}
		return false
	}
	return true
}

// allStop is true for spans like "please" or "for me" that an anchor leaves
// behind when the user gave no value at all.
func allStop(toks []token, lang string) bool {
	for _, t := range toks {
		if !isStop(t.norm, lang) {
			return false
		}
	}
	return true
}
