package sqlstore_test

import (
	"testing"

	"github.com/switchboard-chat/switchboard/internal/store"
	"github.com/switchboard-chat/switchboard/internal/store/postgres/pgtest"
	"github.com/switchboard-chat/switchboard/internal/store/storetest"
)

func TestDashboardSQLite(t *testing.T) {
	storetest.RunDashboard(t, openSQLite)
}

func TestDashboardPostgres(t *testing.T) {
	storetest.RunDashboard(t, func(t *testing.T, clock store.Clock) store.Store { return openPostgres(t, pgtest.URL(t), clock) })
}
