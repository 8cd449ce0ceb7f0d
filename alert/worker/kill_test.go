package worker

import "errors"

// kill abandons e as SIGKILL would: the journal file is closed, so every
// later write fails, and Run returns without draining or compacting.
func (e *Engine) kill() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.journal.Close()
	e.broken = errors.New("killed")
	close(e.killed)
}
