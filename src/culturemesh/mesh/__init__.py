"""The embedded mesh: a durable broker with Knative Trigger and delivery semantics, and a function
host that runs each product function as a real functions-framework process on demand."""
