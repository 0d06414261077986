package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/store"
)

// appendReq is one AppendMessage call travelling through the group committer.
// The committer fills in the outcome.
type appendReq struct {
	appID, convID string
	m             chat.NewMessage

	msg     *chat.Message
	created bool
	err     error
}

func (s *Store) AppendMessage(ctx context.Context, appID, conversationID string, m chat.NewMessage) (*chat.Message, bool, error) {
	rs, err := s.appendAll(ctx, appID, conversationID, []chat.NewMessage{m})
	if err != nil {
		return nil, false, err
	}
	return rs[0].msg, rs[0].created, rs[0].err
}

// AppendMessages stores ms as the conversation's next messages, in order, in
// one group commit: one durable wait for all of them instead of one each.
// Each is appended as AppendMessage would (its client key answered with the
// original); the first error stops the answer, and the messages before it
// are stored.
func (s *Store) AppendMessages(ctx context.Context, appID, conversationID string, ms []chat.NewMessage) ([]store.Appended, error) {
	rs, err := s.appendAll(ctx, appID, conversationID, ms)
	if err != nil {
		return nil, err
	}
	out := make([]store.Appended, 0, len(rs))
	for _, r := range rs {
		if r.err != nil {
			return out, r.err
		}
		out = append(out, store.Appended{Message: r.msg, Created: r.created})
	}
	return out, nil
}

func (s *Store) appendAll(ctx context.Context, appID, conversationID string, ms []chat.NewMessage) ([]*appendReq, error) {
	if len(ms) == 0 {
		return nil, nil
	}
	rs := make([]*appendReq, len(ms))
	for i, m := range ms {
		// Validation happens here, in the caller's goroutine, so the committer only
		// ever sees well-formed messages and a malformed one costs no batch slot.
		if err := m.Normalize(); err != nil {
			return nil, err
		}
		m.Attachments = append([]chat.Attachment(nil), m.Attachments...)
		m.Metadata = m.Metadata.Clone()
		rs[i] = &appendReq{appID: appID, convID: conversationID, m: m}
	}
	if appID == "" || conversationID == "" {
		return nil, chat.NotFound("conversation")
	}
	if err := s.appends.do(ctx, rs...); err != nil {
		if errors.Is(err, errClosed) {
			return nil, &chat.Error{Code: chat.CodeUnavailable, Message: "the server is shutting down", Cause: err}
		}
		return nil, fmt.Errorf("append message: %w", err)
	}
	return rs, nil
}

// applyAppends runs a batch's statements and returns the step that commits
// it and answers its callers. If the batch as a whole fails for a reason not
// tied to one item (which the per-item checks should make impossible), each
// item is retried alone, so that no caller fails because of its neighbours.
func (s *Store) applyAppends(ctx context.Context, batch []*appendReq) func() {
	tx, outcomes, err := s.prepareBatch(ctx, batch)
	return func() {
		if err == nil {
			err = commitBatch(tx, outcomes)
		}
		if err == nil {
			return
		}
		if len(batch) == 1 {
			batch[0].msg, batch[0].created, batch[0].err = nil, false, fmt.Errorf("append message: %w", err)
			return
		}
		for _, r := range batch {
			tx, outcomes, err := s.prepareBatch(ctx, []*appendReq{r})
			if err == nil {
				err = commitBatch(tx, outcomes)
			}
			if err != nil {
				r.msg, r.created, r.err = nil, false, fmt.Errorf("append message: %w", err)
			}
		}
	}
}

// commitBatch commits and only then publishes the outcomes: a caller never
// sees a message that might still roll back.
func commitBatch(tx *sql.Tx, outcomes []outcome) error {
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	for i := range outcomes {
		o := &outcomes[i]
		src := o
		if o.dupOf != nil {
			src = o.dupOf
		}
		o.r.msg, o.r.created = cloneMessage(src.msg), o.created
	}
	return nil
}

type convState struct {
	appID   string
	lastSeq int64
	bumped  bool
}

// queryConvStates runs a dialect's "read (and lock) these conversations"
// query, which must select id, app_id and last_seq.
func queryConvStates(ctx context.Context, tx *sql.Tx, query string, args ...any) (map[string]*convState, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]*convState{}
	for rows.Next() {
		var id string
		c := &convState{}
		if err := rows.Scan(&id, &c.appID, &c.lastSeq); err != nil {
			return nil, err
		}
		out[id] = c
	}
	return out, rows.Err()
}

type convKey struct{ convID, clientKey string }

// seqBump is a conversation's new last_seq after a batch.
type seqBump struct {
	convID  string
	lastSeq int64
}

// batchSQL is the per-database part of applying a batch: the same steps, in
// as few round trips as each database makes cheap.
type batchSQL interface {
	// lockConversations locks the rows (in id order, so that concurrent
	// batches cannot deadlock) and returns them by id; unknown ids are absent.
	lockConversations(ctx context.Context, tx *sql.Tx, ids []string) (map[string]*convState, error)
	// findByClientKey returns the messages already stored under the keys.
	findByClientKey(ctx context.Context, tx *sql.Tx, keys []convKey) (map[convKey]*chat.Message, error)
	// write inserts the messages and moves each conversation's last_seq
	// and updated_at.
	write(ctx context.Context, tx *sql.Tx, msgs []*chat.Message, bumps []seqBump, now int64) error
}

// outcome is an item's result, published only once the batch has committed.
type outcome struct {
	r       *appendReq
	msg     *chat.Message
	created bool
	dupOf   *outcome
}

// prepareBatch runs every statement of a batch in a new transaction and
// returns it uncommitted, with the outcomes to publish once it commits.
// Items that fail on their own (unknown conversation, foreign upload) get
// their error at once and take no part in the transaction.
func (s *Store) prepareBatch(ctx context.Context, batch []*appendReq) (_ *sql.Tx, _ []outcome, err error) {
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()

	var ids, uploadIDs []string
	seenID := map[string]bool{}
	for _, r := range batch {
		if !seenID[r.convID] {
			seenID[r.convID] = true
			ids = append(ids, r.convID)
		}
		for _, a := range r.m.Attachments {
			uploadIDs = append(uploadIDs, a.UploadID)
		}
	}
	sort.Strings(ids)
	convs, err := s.batch.lockConversations(ctx, tx, ids)
	if err != nil {
		return nil, nil, fmt.Errorf("lock conversations: %w", err)
	}
	var uploads map[string]*chat.Upload
	if len(uploadIDs) > 0 {
		if uploads, err = s.loadUploads(ctx, tx, uploadIDs); err != nil {
			return nil, nil, err
		}
	}
	var keys []convKey
	for _, r := range batch {
		if c := convs[r.convID]; c != nil && c.appID == r.appID && r.m.ClientKey != "" {
			keys = append(keys, convKey{r.convID, r.m.ClientKey})
		}
	}
	var existing map[convKey]*chat.Message
	if len(keys) > 0 {
		if existing, err = s.batch.findByClientKey(ctx, tx, keys); err != nil {
			return nil, nil, fmt.Errorf("find client keys: %w", err)
		}
	}

	now := s.now()
	// first keeps pointers into outcomes; reserving len(batch) up front means
	// append never moves it.
	outcomes := make([]outcome, 0, len(batch))
	first := map[convKey]*outcome{}
	msgs := make([]*chat.Message, 0, len(batch))
	for _, r := range batch {
		r.msg, r.created, r.err = nil, false, nil
		c := convs[r.convID]
		if c == nil || c.appID != r.appID {
			r.err = chat.NotFound("conversation")
			continue
		}
		k := convKey{r.convID, r.m.ClientKey}
		if r.m.ClientKey != "" {
			if m := existing[k]; m != nil {
				outcomes = append(outcomes, outcome{r: r, msg: m})
				continue
			}
		}
		atts, err := resolveAttachments(r, uploads)
		if err != nil {
			r.err = err
			continue
		}
		if r.m.ClientKey != "" {
			if o := first[k]; o != nil {
				outcomes = append(outcomes, outcome{r: r, dupOf: o})
				continue
			}
		}
		c.lastSeq++
		c.bumped = true
		m := &chat.Message{
			ID:             chat.NewID(),
			AppID:          r.appID,
			ConversationID: r.convID,
			Seq:            c.lastSeq,
			Sender:         r.m.Sender,
			Text:           r.m.Text,
			ContentType:    r.m.ContentType,
			Metadata:       r.m.Metadata,
			Attachments:    atts,
			Location:       r.m.Location,
			ClientKey:      r.m.ClientKey,
			CreatedAt:      now,
		}
		if m.Metadata == nil {
			m.Metadata = chat.Metadata{}
		}
		msgs = append(msgs, m)
		outcomes = append(outcomes, outcome{r: r, msg: m, created: true})
		if r.m.ClientKey != "" {
			first[k] = &outcomes[len(outcomes)-1]
		}
	}
	if len(msgs) > 0 {
		bumps := make([]seqBump, 0, len(ids))
		for _, id := range ids {
			if c := convs[id]; c != nil && c.bumped {
				bumps = append(bumps, seqBump{id, c.lastSeq})
			}
		}
		if err := s.batch.write(ctx, tx, msgs, bumps, micros(now)); err != nil {
			return nil, nil, fmt.Errorf("write messages: %w", err)
		}
		if err := s.outboxMessages(ctx, tx, msgs); err != nil {
			return nil, nil, err
		}
	}
	return tx, outcomes, nil
}

func cloneMessage(m *chat.Message) *chat.Message {
	c := *m
	c.Metadata = m.Metadata.Clone()
	c.Attachments = append([]chat.Attachment{}, m.Attachments...)
	if m.Location != nil {
		l := *m.Location
		c.Location = &l
	}
	return &c
}

func resolveAttachments(r *appendReq, uploads map[string]*chat.Upload) ([]chat.Attachment, error) {
	out := make([]chat.Attachment, 0, len(r.m.Attachments))
	for _, a := range r.m.Attachments {
		u := uploads[a.UploadID]
		if u == nil || u.AppID != r.appID {
			return nil, chat.NotFound("upload").WithDetail("field", "attachments.uploadId")
		}
		out = append(out, chat.Attachment{UploadID: u.ID, Name: u.Name, MimeType: u.MimeType, Size: u.Size})
	}
	return out, nil
}

// loadUploads reads the uploads a batch refers to. Attachments are rare
// enough that one generic IN query serves both databases.
func (s *Store) loadUploads(ctx context.Context, tx *sql.Tx, ids []string) (map[string]*chat.Upload, error) {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := tx.QueryContext(ctx, s.q("SELECT "+uploadCols+" FROM uploads WHERE id IN ("+inList(len(ids))+")"), args...)
	if err != nil {
		return nil, fmt.Errorf("load uploads: %w", err)
	}
	defer rows.Close()
	out := map[string]*chat.Upload{}
	for rows.Next() {
		u, err := scanUpload(rows)
		if err != nil {
			return nil, fmt.Errorf("load uploads: %w", err)
		}
		out[u.ID] = u
	}
	return out, wrapRowsErr(rows, "load uploads")
}

const msgCols = "id, app_id, conversation_id, seq, sender_type, sender_id, text, content_type, metadata, attachments, location, client_key, created_at"

// msgRow is a message in its column encoding.
type msgRow struct {
	meta, atts, loc string
}

func encodeMessage(m *chat.Message) msgRow {
	r := msgRow{meta: encodeMetadata(m.Metadata), atts: "[]"}
	if len(m.Attachments) > 0 {
		b, _ := json.Marshal(m.Attachments) // plain strings and numbers always marshal
		r.atts = string(b)
	}
	if m.Location != nil {
		b, _ := json.Marshal(m.Location)
		r.loc = string(b)
	}
	return r
}

func scanMessage(sc interface{ Scan(...any) error }) (*chat.Message, error) {
	var m chat.Message
	var meta, atts, loc string
	var created int64
	if err := sc.Scan(&m.ID, &m.AppID, &m.ConversationID, &m.Seq, &m.Sender.Type, &m.Sender.ID, &m.Text,
		&m.ContentType, &meta, &atts, &loc, &m.ClientKey, &created); err != nil {
		return nil, err
	}
	md, err := decodeMetadata(meta)
	if err != nil {
		return nil, err
	}
	m.Metadata = md
	m.Attachments = []chat.Attachment{}
	if atts != "" && atts != "[]" {
		if err := json.Unmarshal([]byte(atts), &m.Attachments); err != nil {
			return nil, fmt.Errorf("decode attachments: %w", err)
		}
	}
	if loc != "" {
		m.Location = &chat.Location{}
		if err := json.Unmarshal([]byte(loc), m.Location); err != nil {
			return nil, fmt.Errorf("decode location: %w", err)
		}
	}
	m.CreatedAt = fromMicros(created)
	return &m, nil
}

func (s *Store) ListMessages(ctx context.Context, appID, conversationID string, afterSeq int64, limit int) ([]chat.Message, error) {
	switch {
	case limit <= 0:
		limit = store.DefaultPageSize
	case limit > store.MaxPageSize:
		limit = store.MaxPageSize
	}
	ok, err := exists(ctx, s.db, s.q("SELECT 1 FROM conversations WHERE app_id = ? AND id = ?"), appID, conversationID)
	if err != nil {
		return nil, fmt.Errorf("list messages: %w", err)
	}
	if !ok {
		return nil, chat.NotFound("conversation")
	}
	rows, err := s.db.QueryContext(ctx, s.q("SELECT "+msgCols+` FROM messages
		WHERE conversation_id = ? AND app_id = ? AND seq > ? ORDER BY seq LIMIT ?`),
		conversationID, appID, afterSeq, limit)
	if err != nil {
		return nil, fmt.Errorf("list messages: %w", err)
	}
	defer rows.Close()
	out := []chat.Message{}
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, fmt.Errorf("list messages: %w", err)
		}
		out = append(out, *m)
	}
	return out, wrapRowsErr(rows, "list messages")
}
