package dropbox

// HTTPStatus lets connector.StatusOf read the status without knowing this type.
func (e *HTTPError) HTTPStatus() int { return e.StatusCode }
