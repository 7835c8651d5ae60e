//! Colours and symbols. Every status is a symbol and a word as well as a colour, so the screen
//! reads the same with NO_COLOR, on 16-colour terminals and over a screen share.

use crate::domain::status::{ImplLevel, Rag};
use ratatui::style::{Color, Modifier, Style};

#[derive(Clone, Copy, Debug)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    pub fn from_env() -> Theme {
        Theme { color: std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) }
    }
    fn fg(&self, c: Color) -> Style {
        if self.color {
            Style::default().fg(c)
        } else {
            Style::default()
        }
    }
    pub fn rag(&self, r: Rag) -> Style {
        match r {
            Rag::Green => self.fg(Color::Green),
            Rag::Amber => self.fg(Color::Yellow),
            Rag::Red => self.fg(Color::Red).add_modifier(Modifier::BOLD),
            Rag::Stale => self.fg(Color::Magenta),
            Rag::NoData => self.fg(Color::DarkGray),
        }
    }
    pub fn implementation(&self, l: ImplLevel) -> Style {
        match l {
            ImplLevel::OnTrack => self.fg(Color::Green),
            ImplLevel::Late => self.fg(Color::Yellow),
            ImplLevel::Critical => self.fg(Color::Red).add_modifier(Modifier::BOLD),
        }
    }
    pub fn tier(&self, tier: i64) -> Style {
        match tier {
            3 => self.fg(Color::Red).add_modifier(Modifier::BOLD),
            2 => self.fg(Color::LightRed),
            _ => self.fg(Color::Yellow),
        }
    }
    pub fn selected(&self, focused: bool) -> Style {
        if focused {
            Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD)
        } else {
            Style::default().add_modifier(Modifier::UNDERLINED)
        }
    }
    pub fn title(&self, focused: bool) -> Style {
        let s = Style::default().add_modifier(Modifier::BOLD);
        if focused && self.color {
            s.fg(Color::Cyan)
        } else {
            s
        }
    }
    pub fn dim(&self) -> Style {
        if self.color {
            Style::default().fg(Color::DarkGray)
        } else {
            Style::default()
        }
    }
    pub fn key(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }
    pub fn error(&self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }
    pub fn banner(&self) -> Style {
        if self.color {
            Style::default().fg(Color::Black).bg(Color::Yellow).add_modifier(Modifier::BOLD)
        } else {
            Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD)
        }
    }
}

/// A symbol for each status; distinct shapes, not only colours.
pub fn rag_symbol(r: Rag) -> &'static str {
    r.symbol()
}

pub fn impl_symbol(l: ImplLevel) -> &'static str {
    l.symbol()
}

pub fn tier_symbol(tier: i64) -> &'static str {
    match tier {
        3 => "!!!",
        2 => "!! ",
        _ => "!  ",
    }
}
