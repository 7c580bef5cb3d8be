package bridge

// The review: before anything is written, the host measures the machine
// and sends a Review; the page shows what the donor would give, working
// the plan out for every percentage with the install's own plan code
// (WebAssembly), and sends Start with the percentage chosen. After the
// install the page acts on the result (Act): close, try again, open the
// log or the folder, uninstall.

// Review is what the page needs to show the plan before the donor
// installs: the machine's maximums (measured, or the safe default where a
// measurement failed), the cost of one vessel, and what is already in the
// install directory.
type Review struct {
	Header
	Percent   float64            `json:"percent"` // the share offered first
	Resources []Resource         `json:"resources"`
	Failures  []Failure          `json:"failures"`
	Maximums  map[string]float64 `json:"maximums"` // for seattlePlan
	Offcut    map[string]float64 `json:"offcut"`   // for seattlePlan
	// Installed says the directory already holds an install: the page
	// says so before the donor presses anything, and offers Uninstall.
	Installed bool `json:"installed"`
	// Problem says, in words, why there is nothing to install ("" when
	// there is): the measurements could not be taken or read.
	Problem string `json:"problem"`
}

// Uninstalled is the end of an uninstall the page asked for.
type Uninstalled struct {
	Header
	OK      bool     `json:"ok"`
	Title   string   `json:"title"`
	Message string   `json:"message"`
	Kept    []string `json:"kept"` // what was kept because it was not the install's
	Next    string   `json:"next"`
	Actions []string `json:"actions"`
}

func (*Review) kind() string      { return "review" }
func (*Uninstalled) kind() string { return "uninstalled" }

// Act asks the host for one of Actions after a result.
type Act struct {
	Action string `json:"action"`
}

func (*Act) pageMessage() {}

// The actions the page may ask for with Act.
const (
	ActionClose      = "close"
	ActionTryAgain   = "try-again"
	ActionOpenLog    = "open-log"
	ActionOpenFolder = "open-folder"
	ActionUninstall  = "uninstall"
)

// Actions lists them.
var Actions = []string{ActionClose, ActionTryAgain, ActionOpenLog, ActionOpenFolder, ActionUninstall}

func knownAction(a string) bool {
	for _, k := range Actions {
		if a == k {
			return true
		}
	}
	return false
}
