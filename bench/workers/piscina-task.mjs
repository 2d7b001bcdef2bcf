// A trivial piscina task: returns the message it was given.
export default (message) => message;
