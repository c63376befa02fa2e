-- Lantern store, schema version 5: the agent's partial transaction (`/register/transaction`), kept with its
-- invocation. An environment killed before an invocation ended (a crash under RIE, a SHUTDOWN overrun, running out
-- of memory) cannot make that invocation's proxy transaction; the next collector on the same store finds the
-- invocation unended and makes the proxy from this template, late but not lost.
ALTER TABLE invocations ADD COLUMN registration TEXT;
