"""The strong student and the LangGraph campaign loop that trains it."""
