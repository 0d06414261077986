package service

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/periodic"
)

// Auto-resolve sweep bounds. A sweep resolves at most AutoResolveBatch
// conversations per app and rule group, so one app with a long backlog
// cannot hold the others up: the rest wait for the next sweep.
const (
	AutoResolveBatch        = 100
	DefaultAutoResolveEvery = 30 * time.Second
)

// ResolveIdle runs one auto-resolve sweep over every app: a conversation
// that is not closed (open, unresponded, waiting in the queue, with a bot
// or a person alike) and has had no message or change for its rules'
// AutoResolveAfter is resolved, with a system notice. It returns how many
// this call resolved.
//
// Every node may sweep at the same time. Each resolution is a guarded
// update: it happens only if the conversation is still exactly as the
// sweep read it (same last message, same last change, not closed), so of
// two nodes one resolves and the other finds it moved and does nothing;
// only the one that resolved posts the notice.
func (s *Service) ResolveIdle(ctx context.Context) (int, error) {
	apps, err := s.store.ListApps(ctx)
	if err != nil {
		return 0, err
	}
	total := 0
	var errs []error
	for _, app := range apps {
		n, err := s.resolveIdleApp(ctx, app.ID)
		total += n
		if err != nil {
			if ctx.Err() != nil {
				return total, ctx.Err()
			}
			errs = append(errs, fmt.Errorf("app %s: %w", app.ID, err))
		}
	}
	return total, errors.Join(errs...)
}

func (s *Service) resolveIdleApp(ctx context.Context, appID string) (int, error) {
	teams, err := s.store.ListTeams(ctx, appID)
	if err != nil {
		return 0, err
	}
	// Conversations are grouped by their effective rule (the app's, or
	// their team's override), so one query serves every team that shares it.
	groups := map[time.Duration][]string{}
	teamIDs := []string{""}
	for _, t := range teams {
		teamIDs = append(teamIDs, t.ID)
	}
	for _, id := range teamIDs {
		rules, _, err := s.EffectiveRules(ctx, appID, id)
		if err != nil {
			return 0, err
		}
		if d := rules.AutoResolveAfter; d > 0 {
			groups[d] = append(groups[d], id)
		}
	}
	afters := make([]time.Duration, 0, len(groups))
	for d := range groups {
		afters = append(afters, d)
	}
	sort.Slice(afters, func(i, j int) bool { return afters[i] < afters[j] })
	now := s.now()
	resolved := 0
	for _, d := range afters {
		idle, err := s.store.IdleConversations(ctx, appID, groups[d], now.Add(-d), AutoResolveBatch)
		if err != nil {
			return resolved, err
		}
		for i := range idle {
			ok, err := s.autoResolve(ctx, &idle[i])
			if err != nil {
				return resolved, err
			}
			if ok {
				resolved++
			}
		}
	}
	return resolved, nil
}

// autoResolve resolves read if it has not moved since it was read.
func (s *Service) autoResolve(ctx context.Context, read *chat.Conversation) (bool, error) {
	var byBot string
	_, err := s.updateConversation(ctx, read.AppID, read.ID, func(c *chat.Conversation) error {
		if c.Status.Closed() || c.LastSeq != read.LastSeq || !c.UpdatedAt.Equal(read.UpdatedAt) {
			return errMoved
		}
		byBot = resolvedByBot(c, chat.StatusResolved)
		c.Status = chat.StatusResolved
		return nil
	})
	if errors.Is(err, errMoved) || chat.IsCode(err, chat.CodeNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	n := *chat.AutoResolvedNotice()
	// Keyed by the state it resolved, so a retry after a lost answer does
	// not post twice, and a later idle spell (after a reopen) posts anew.
	n.ClientKey = "autoresolve:" + strconv.FormatInt(read.LastSeq, 10) + ":" + strconv.FormatInt(read.UpdatedAt.UnixMicro(), 10)
	if _, _, err := s.appendMessage(ctx, read.AppID, read.ID, n); err != nil {
		return true, err
	}
	if byBot != "" {
		s.recordBotResolved(ctx, read.AppID, read.ID, byBot, "inactivity")
	}
	s.log.InfoContext(ctx, "conversation resolved for inactivity", "app", read.AppID, "conversation", read.ID)
	return true, nil
}

// RunAutoResolve sweeps every interval (DefaultAutoResolveEvery when 0)
// until ctx ends. The caller owns the goroutine: it cancels ctx and waits
// for the return. A failed sweep is logged and the next one tries again.
func (s *Service) RunAutoResolve(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = DefaultAutoResolveEvery
	}
	periodic.Every(ctx, every, every, func(sctx context.Context) {
		n, err := s.ResolveIdle(sctx)
		if err != nil && ctx.Err() == nil {
			s.log.WarnContext(ctx, "auto-resolve sweep failed", "resolved", n, "err", err)
		} else if n > 0 {
			s.log.InfoContext(ctx, "auto-resolve sweep", "resolved", n)
		}
	})
}
