package good

import (
	"errors"
	"io"
	"log"
	"log/slog"
	"math/rand/v2"
	"os"
	"time"
)

func allowed(ch chan int, err error) time.Duration {
	r := rand.New(rand.NewPCG(1, 2))
	_ = r.IntN(3)
	_ = errors.Is(err, os.ErrNotExist)
	_ = log.New(io.Discard, "", 0)
	slog.New(slog.DiscardHandler).Info("injected loggers are fine")
	select {
	case <-ch:
	}
	return 3 * time.Second
}
