// generic store tests: see crate::store::tests
