package tracker

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/lesismal/nbio/logging"
)

// nbio logs through one process-wide logger; the first tracker started in
// the process gives it its slog.Logger (its start-up lines at debug level,
// its warnings and errors as they are).
var nbioLogOnce sync.Once

func useNbioLog(log *slog.Logger) {
	nbioLogOnce.Do(func() { logging.SetLogger(nbioLog{log.With("part", "nbio")}) })
}

type nbioLog struct{ l *slog.Logger }

func (n nbioLog) Debug(f string, v ...any) { n.log(slog.LevelDebug, f, v) }
func (n nbioLog) Info(f string, v ...any)  { n.log(slog.LevelDebug, f, v) }
func (n nbioLog) Warn(f string, v ...any)  { n.log(slog.LevelWarn, f, v) }
func (n nbioLog) Error(f string, v ...any) { n.log(slog.LevelError, f, v) }

func (n nbioLog) log(lvl slog.Level, f string, v []any) {
	if n.l.Enabled(context.Background(), lvl) {
		n.l.Log(context.Background(), lvl, fmt.Sprintf(f, v...))
	}
}
