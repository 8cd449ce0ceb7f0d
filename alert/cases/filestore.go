package cases

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
)

// FileStore keeps cases and events as JSON lines under a directory:
// cases.jsonl holds one line per save (the last line of a case id wins)
// and is compacted when opened; events.jsonl is append-only. Writes reach
// the OS before Save returns, so they survive a killed process; the alert
// worker's fsynced journal, not this file, is what recovery relies on.
type FileStore struct {
	mu     sync.Mutex
	dir    string
	cases  *os.File
	events *os.File
}

// OpenFileStore opens (creating) the store in dir and compacts cases.jsonl.
func OpenFileStore(dir string) (*FileStore, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("cannot create case store %s: %w", dir, err)
	}
	s := &FileStore{dir: dir}
	list, err := s.read()
	if err != nil {
		return nil, err
	}
	// Compact: rewrite one line per case, then swap files atomically.
	tmp := filepath.Join(dir, "cases.jsonl.tmp")
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for _, c := range list {
		if err := enc.Encode(c); err != nil {
			return nil, fmt.Errorf("cannot encode case %s: %w", c.ID, err)
		}
	}
	if err := writeFileSync(tmp, buf.Bytes()); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, filepath.Join(dir, "cases.jsonl")); err != nil {
		return nil, fmt.Errorf("cannot replace cases.jsonl: %w", err)
	}
	if s.cases, err = os.OpenFile(filepath.Join(dir, "cases.jsonl"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644); err != nil {
		return nil, fmt.Errorf("cannot open case store: %w", err)
	}
	if s.events, err = os.OpenFile(filepath.Join(dir, "events.jsonl"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644); err != nil {
		s.cases.Close()
		return nil, fmt.Errorf("cannot open case events: %w", err)
	}
	return s, nil
}

func writeFileSync(path string, b []byte) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("cannot create %s: %w", path, err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("cannot sync %s: %w", path, err)
	}
	return f.Close()
}

// read returns the latest version of every case, in first-seen order. A
// torn last line (the process died mid-write) is ignored.
func (s *FileStore) read() ([]Case, error) {
	f, err := os.Open(filepath.Join(s.dir, "cases.jsonl"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cannot open case store: %w", err)
	}
	defer f.Close()
	var (
		order []string
		byID  = map[string]Case{}
	)
	err = ReadLines(f, func(line []byte) error {
		var c Case
		if err := json.Unmarshal(line, &c); err != nil {
			return err
		}
		if _, ok := byID[c.ID]; !ok {
			order = append(order, c.ID)
		}
		byID[c.ID] = c
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", f.Name(), err)
	}
	out := make([]Case, 0, len(order))
	for _, id := range order {
		out = append(out, byID[id])
	}
	return out, nil
}

// ReadLines calls fn for each newline-terminated line of r. An
// unterminated last line is a write torn by a crash and is skipped; a
// malformed complete line is an error naming its number.
func ReadLines(r io.Reader, fn func([]byte) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			return nil // torn or empty tail
		}
		if err != nil {
			return err
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		if err := fn(line); err != nil {
			return fmt.Errorf("line %d: %w", n, err)
		}
	}
}

// Load returns every case.
func (s *FileStore) Load(context.Context) ([]Case, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.read()
}

func (s *FileStore) appendJSON(f *os.File, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = f.Write(append(b, '\n'))
	return err
}

// Save appends c.
func (s *FileStore) Save(_ context.Context, c Case) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.appendJSON(s.cases, c); err != nil {
		return fmt.Errorf("cannot save case %s: %w", c.ID, err)
	}
	return nil
}

// AppendEvent appends e.
func (s *FileStore) AppendEvent(_ context.Context, e Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.appendJSON(s.events, e); err != nil {
		return fmt.Errorf("cannot append event of case %s: %w", e.CaseID, err)
	}
	return nil
}

// Events reads every stored event.
func (s *FileStore) Events() ([]Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := os.Open(filepath.Join(s.dir, "events.jsonl"))
	if err != nil {
		return nil, fmt.Errorf("cannot open case events: %w", err)
	}
	defer f.Close()
	var out []Event
	err = ReadLines(f, func(line []byte) error {
		var e Event
		if err := json.Unmarshal(line, &e); err != nil {
			return err
		}
		out = append(out, e)
		return nil
	})
	return out, err
}

// Close closes the files.
func (s *FileStore) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return errors.Join(s.cases.Close(), s.events.Close())
}
