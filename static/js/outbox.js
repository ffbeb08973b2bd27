/* The outbox's entry (the modules are in outbox/, main.js starts them). New pages load this file as a
   module; a page kept on a phone before the modules came (issue 10) loads the same URL as a classic
   script, and must still record without signal: so this file is valid as both and imports with import(). */
import('./outbox/main.js');
