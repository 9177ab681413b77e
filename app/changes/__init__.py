"""The changes of a running contract: licences, options, suspensions, ad-hoc charges."""
