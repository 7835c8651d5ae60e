//! Every user intent as a named action. Keys map to these names (see keymap.toml); the help
//! overlay and the command palette list them, so neither can drift from what the keys do.

macro_rules! actions {
    (main: { $($variant:ident => $name:literal, $help:literal;)+ } modes: { $($mvariant:ident => $mname:literal, $mhelp:literal;)+ }) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Action { $($variant,)+ $($mvariant),+ }
        impl Action {
            pub const ALL: &'static [Action] = &[$(Action::$variant,)+ $(Action::$mvariant),+];
            /// The main screen's actions: what the palette offers.
            pub const MAIN: &'static [Action] = &[$(Action::$variant),+];
            pub fn name(self) -> &'static str {
                match self { $(Action::$variant => $name,)+ $(Action::$mvariant => $mname),+ }
            }
            pub fn help(self) -> &'static str {
                match self { $(Action::$variant => $help,)+ $(Action::$mvariant => $mhelp),+ }
            }
            pub fn from_name(s: &str) -> Option<Action> {
                Action::ALL.iter().copied().find(|a| a.name() == s)
            }
        }
    };
}

actions! {
main: {
    Up => "up", "move up";
    Down => "down", "move down";
    Top => "top", "go to the first row";
    Bottom => "bottom", "go to the last row";
    PageUp => "page-up", "move up a page";
    PageDown => "page-down", "move down a page";
    Collapse => "collapse", "collapse the row, or go to its parent";
    Expand => "expand", "expand the row";
    Enter => "enter", "drill in: expand, or jump to the item";
    Back => "back", "back out: close a popup, clear a filter";
    NextPane => "next-pane", "focus the next pane";
    PrevPane => "prev-pane", "focus the previous pane";
    TreePane => "pane-tree", "focus the tree";
    DetailPane => "pane-detail", "focus the detail pane";
    VariancePane => "pane-variance", "focus the variance list";
    ToggleView => "toggle-view", "switch tree: objectives / execution hierarchy";
    FilterMine => "filter-mine", "tree: only my items";
    FilterUnit => "filter-unit", "tree: only my unit's items";
    FilterStale => "filter-stale", "tree: only stale items";
    FilterEscalated => "filter-escalated", "tree: only escalated items";
    FilterRetired => "filter-retired", "tree: only retired items, marked (X on one brings it back)";
    CycleTier => "variance-tier", "variance list: cycle the tier filter";
    VarianceMine => "variance-mine", "variance list: only items I own";
    EditActual => "edit-actual", "enter this period's actual";
    EditForecast => "edit-forecast", "enter this period's forecast";
    EditNarrative => "edit-narrative", "write the status narrative";
    EditField => "edit-field", "edit a field of the item";
    ReadText => "read-text", "read the item's text fields whole (narrative, description …), scrolling";
    GateRequest => "gate-request", "request the next stage gate";
    GateApprove => "gate-approve", "approve / sign off the pending gate";
    GateBack => "gate-back", "move the measure back a stage (with a reason)";
    GateHold => "gate-hold", "put the measure on hold (with a reason)";
    Acknowledge => "acknowledge", "acknowledge the selected (or marked) escalations";
    Mark => "mark", "variance list: mark or unmark the row, to act on several";
    MarkAll => "mark-all", "variance list: mark every row the filter shows (again: unmark them all)";
    VarianceFilter => "variance-filter", "variance list: only one owner (login) or unit (U-n); empty shows all";
    Assign => "assign", "assign the selected (or marked) escalations to a person";
    Snooze => "snooze", "snooze the selected (or marked) escalations until a date, with a reason";
    Decide => "decide", "record a decision on the selected (or marked) escalations";
    Resolve => "resolve", "resolve the selected (or marked) escalations, with a note";
    StaleList => "stale-list", "who has not updated what, and for how long";
    WeeklyUpdate => "my-updates", "weekly update: my items that are due";
    Meeting => "meeting", "check-in meeting mode for screen sharing";
    Undo => "undo", "undo my last edit or triage action in this session (reopens a resolved escalation)";
    AddItem => "add-item", "add an item under the selected one (kind, title, field=value …)";
    MoveItem => "move-item", "move the selected item under another parent";
    RetireItem => "retire-item", "retire the selected item, with a reason (kept in its history)";
    Search => "search", "search items by key or title";
    SearchNext => "search-next", "next search match";
    SearchPrev => "search-prev", "previous search match";
    Reload => "reload", "reload from the file";
    Help => "help", "show the keys";
    Palette => "palette", "command palette: run any action by name";
    Quit => "quit", "quit (asks if an edit is unsaved)";
    ForceQuit => "force-quit", "quit at once";
    Suspend => "suspend", "suspend keel to the shell (fg brings it back)";
    Redraw => "redraw", "redraw the whole screen";
}
modes: {
    Save => "save", "save / answer, and move on";
    Cancel => "cancel", "cancel: close without saving";
    ClearField => "clear-field", "clear the field";
    NewLine => "new-line", "a new line in a narrative";
    NextField => "next-field", "the next field";
    PrevField => "prev-field", "the previous field";
    Skip => "skip", "skip this item (nothing is saved for it)";
    MilestoneDone => "milestone-done", "mark the next open milestone done";
    Leave => "leave", "leave, with a summary of what was saved";
    Yes => "yes", "yes, do it";
    No => "no", "no, cancel";
    Complete => "complete", "complete the action's name";
    NextItem => "next-item", "the next agenda item";
    PrevItem => "prev-item", "the previous agenda item";
    Changes => "changes", "what changed since the last check-in (again: back to the item)";
    EndMeeting => "end-meeting", "end the meeting and show its decisions";
    ShowInTree => "show-in-tree", "look at the item in the tree; the meeting waits (P comes back to it)";
    Close => "close", "close";
}
}
